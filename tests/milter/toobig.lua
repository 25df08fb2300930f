-- A message larger than [milter] max_size was not read whole, so it cannot
-- be judged: it is refused (552 5.3.4, checked through a real Postfix in
-- gateway-postfix.test.mjs), never let through, whatever its content: an
-- SSN past the limit, and a plain message that large.
local t = dofile(os.getenv("MT_DIR") .. "/common.lua")
local conn = t.connect()
local pad = string.rep("The quarterly figures are attached as discussed.\r\n", 400)
t.send(conn, "8D1", "dr@clinic.example", {"pat@example.com"},
  {{"From", "dr@clinic.example"}, {"To", "pat@example.com"}, {"Subject", "Results"}},
  pad .. t.ssn_body)
t.refused(conn, "oversized message with an SSN past max_size")
t.send(conn, "8D2", "dr@clinic.example", {"pat@example.com"},
  {{"From", "dr@clinic.example"}, {"To", "pat@example.com"}, {"Subject", "Figures"}},
  t.plain_body .. pad)
t.refused(conn, "oversized plain message")
mt.disconnect(conn)
