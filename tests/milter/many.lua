-- Ten messages to encrypt, one after another on one milter connection.
local t = dofile(os.getenv("MT_DIR") .. "/common.lua")
local conn = t.connect()
for i = 1, 10 do
  t.send(conn, "9E" .. i, "dr@clinic.example", {"pat@example.com"},
    {{"From", "dr@clinic.example"}, {"To", "pat@example.com"}, {"Subject", "Statement " .. i}},
    t.ssn_body)
  t.check(mt.eom_check(conn, MT_BODYCHANGE), "message " .. i .. " encrypted")
end
mt.disconnect(conn)
