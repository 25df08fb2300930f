-- With the key server unreachable, slow or refusing, a message that must
-- be protected gets 451 4.7.0 (the MTA keeps it and retries); mail that
-- needs no key still passes.
local t = dofile(os.getenv("MT_DIR") .. "/common.lua")
local conn = t.connect()
t.send(conn, "6B1", "dr@clinic.example", {"pat@example.com"},
  {{"From", "dr@clinic.example"}, {"To", "pat@example.com"}, {"Subject", "Results"}}, t.ssn_body)
t.tempfailed(conn, "SSN with the key server " .. os.getenv("KEYD_STATE"))

t.send(conn, "6B2", "dr@clinic.example", {"partner@example.com"},
  {{"From", "dr@clinic.example"}, {"To", "partner@example.com"}, {"Subject", "Lunch"}},
  t.plain_body)
t.unchanged(conn, "plain mail while the key server is " .. os.getenv("KEYD_STATE"))
mt.disconnect(conn)
