-- A notification with the null sender whose From is the organisation's is
-- outbound mail like any other.
local t = dofile(os.getenv("MT_DIR") .. "/common.lua")
local conn = t.connect()
t.send(conn, "7C1", "", {"pat@example.com"},
  {{"From", "billing@clinic.example"}, {"To", "pat@example.com"}, {"Subject", "Statement"}},
  t.ssn_body)
t.check(mt.getreply(conn) == SMFIR_CONTINUE, "accepted")
t.check(mt.eom_check(conn, MT_BODYCHANGE), "encrypted")
mt.disconnect(conn)
