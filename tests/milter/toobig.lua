-- A message to encrypt that is larger than [milter] max_size cannot be
-- protected: 451, never plaintext. A plain one that large passes.
local t = dofile(os.getenv("MT_DIR") .. "/common.lua")
local conn = t.connect()
local pad = string.rep("The quarterly figures are attached as discussed.\r\n", 400)
t.send(conn, "8D1", "dr@clinic.example", {"pat@example.com"},
  {{"From", "dr@clinic.example"}, {"To", "pat@example.com"}, {"Subject", "Results"}},
  t.ssn_body .. pad)
t.tempfailed(conn, "oversized message with an SSN")
t.send(conn, "8D2", "dr@clinic.example", {"pat@example.com"},
  {{"From", "dr@clinic.example"}, {"To", "pat@example.com"}, {"Subject", "Figures"}},
  t.plain_body .. pad)
t.unchanged(conn, "oversized plain message")
mt.disconnect(conn)
