-- What the policy engine cannot read whole is sealed (rule unscannable),
-- never let out in clear: HTML nested past the extractor's depth, a
-- multipart without a boundary. Sensitive values in headers are found:
-- an SSN in X-Patient, in a display name (RFC 2047).
local t = dofile(os.getenv("MT_DIR") .. "/common.lua")
local conn = t.connect()
local function sealed(what)
  t.check(mt.getreply(conn) == SMFIR_CONTINUE, what .. ": accepted")
  t.check(mt.eom_check(conn, MT_BODYCHANGE), what .. ": body replaced by the carrier")
  t.check(mt.eom_check(conn, MT_HDRADD, "X-Sealpost-Id"), what .. ": X-Sealpost-Id added")
end
local html = "<html><body>" .. string.rep("<div>", 300) ..
  "Your Social Security number 536-22-8714 is on file." .. string.rep("</div>", 300) .. "</body></html>\r\n"
t.send(conn, "UN1", "dr@clinic.example", {"pat@example.com"},
  {{"From", "dr@clinic.example"}, {"To", "pat@example.com"}, {"Subject", "Results"},
   {"MIME-Version", "1.0"}, {"Content-Type", "text/html; charset=utf-8"}}, html)
sealed("deeply nested HTML")
t.send(conn, "UN2", "dr@clinic.example", {"pat@example.com"},
  {{"From", "dr@clinic.example"}, {"To", "pat@example.com"}, {"Subject", "Results"},
   {"MIME-Version", "1.0"}, {"Content-Type", "multipart/mixed"}}, t.ssn_body)
sealed("multipart without a boundary")
t.send(conn, "UN3", "dr@clinic.example", {"pat@example.com"},
  {{"From", "dr@clinic.example"}, {"To", "pat@example.com"}, {"Subject", "Record"},
   {"X-Patient", "Jane Roe, SSN 536-22-8714"}}, t.plain_body)
sealed("SSN in X-Patient")
t.send(conn, "UN4", "dr@clinic.example", {"pat@example.com"},
  {{"From", "dr@clinic.example"}, {"To", "=?utf-8?q?Jane_Roe_SSN_536-22-8714?= <pat@example.com>"},
   {"Subject", "Hello"}}, t.plain_body)
sealed("SSN in the To display name")
t.send(conn, "UN5", "dr@clinic.example", {"pat@example.com"},
  {{"From", "dr@clinic.example"}, {"To", "pat@example.com"}, {"Subject", "Lunch"},
   {"MIME-Version", "1.0"}, {"Content-Type", "text/plain; charset=x-unheard-of"}}, t.plain_body)
t.unchanged(conn, "plain mail with an unknown charset")
mt.disconnect(conn)
