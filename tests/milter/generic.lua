-- The organisation's profile asks for a generic subject: the delivered
-- carrier says "Secure message", not what the sender wrote.
local t = dofile(os.getenv("MT_DIR") .. "/common.lua")
local conn = t.connect()
t.send(conn, "AF1", "dr@clinic.example", {"pat@example.com"}, {
  {"From", "dr@clinic.example"},
  {"To", "pat@example.com"},
  {"Subject", "[secure] HIV test results"},
}, t.ssn_body)
t.check(mt.getreply(conn) == SMFIR_CONTINUE, "accepted")
t.check(mt.eom_check(conn, MT_BODYCHANGE), "encrypted")
t.check(mt.eom_check(conn, MT_HDRCHANGE, "Subject", " Secure message"), "generic subject")
mt.disconnect(conn)
