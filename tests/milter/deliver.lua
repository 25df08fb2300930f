-- Mail the policy does not protect, and mail that is not outbound, passes
-- exactly as it came.
local t = dofile(os.getenv("MT_DIR") .. "/common.lua")
local conn = t.connect()
local hdrs = {
  {"From", "Ann <ann@clinic.example>"},
  {"To", "partner@example.com"},
  {"Subject", "Meeting"},
  {"X-Sealpost-Note", "left alone on plain mail"},
}
t.send(conn, "5A1", "ann@clinic.example", {"partner@example.com"}, hdrs, t.plain_body)
t.unchanged(conn, "plain outbound mail")

-- Internal recipients only: not scanned, even with an SSN.
t.send(conn, "5A2", "ann@clinic.example", {"bob@clinic.example", "cy@mail.clinic.example"},
  {{"From", "ann@clinic.example"}, {"To", "bob@clinic.example"}, {"Subject", "HR"}}, t.ssn_body)
t.unchanged(conn, "internal mail")

-- A sender outside the organisation (inbound or relayed mail): not ours.
t.send(conn, "5A3", "someone@example.net", {"pat@example.com"},
  {{"From", "someone@example.net"}, {"Subject", "[secure] hi"}}, t.ssn_body)
t.unchanged(conn, "mail from outside")
mt.disconnect(conn)
