-- A Bcc: field that the MTA passes (Postfix drops it first by default; other
-- MTAs may not) never reaches the outside: the carrier goes without it, the
-- sealed copy too (the milter leaves it out of the payload; see also
-- gateway-postfix.test.mjs for the envelope's named recipients).
local t = dofile(os.getenv("MT_DIR") .. "/common.lua")
local conn = t.connect()
t.send(conn, "BC1", "dr@clinic.example", {"pat@example.com", "quinn@example.net"}, {
  {"From", "dr@clinic.example"},
  {"To", "pat@example.com"},
  {"Bcc", "Quinn <quinn@example.net>"},
  {"Subject", "Results"},
}, t.ssn_body)
t.check(mt.getreply(conn) == SMFIR_CONTINUE, "accepted")
t.check(mt.eom_check(conn, MT_BODYCHANGE), "body replaced by the carrier")
t.check(mt.eom_check(conn, MT_HDRDELETE, "Bcc"), "Bcc removed from the carrier")
t.check(not mt.eom_check(conn, MT_HDRDELETE, "To"), "To kept")
mt.disconnect(conn)
