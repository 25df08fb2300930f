-- common.lua - shared by the miltertest scripts (tests/integration/milter.test.mjs
-- runs them against a real sealpost-milter and a development keyd).
-- MILTER_SOCKET names the filter's socket.
local M = {}

function M.connect()
  local conn = mt.connect(os.getenv("MILTER_SOCKET"), 40, 0.25)
  assert(conn, "cannot connect to the milter at " .. tostring(os.getenv("MILTER_SOCKET")))
  assert(mt.negotiate(conn, nil, nil, nil) == nil, "negotiation failed")
  return conn
end

-- One message through the filter up to end of message. headers is a list
-- of {name, value}.
function M.send(conn, qid, from, rcpts, headers, body)
  assert(mt.macro(conn, SMFIC_MAIL, "i", qid) == nil)
  assert(mt.mailfrom(conn, "<" .. from .. ">") == nil, "MAIL FROM")
  for _, r in ipairs(rcpts) do
    assert(mt.rcptto(conn, "<" .. r .. ">") == nil, "RCPT TO " .. r)
  end
  for _, h in ipairs(headers) do
    assert(mt.header(conn, h[1], h[2]) == nil, "header " .. h[1])
  end
  assert(mt.eoh(conn) == nil, "end of headers")
  assert(mt.bodystring(conn, body) == nil, "body")
  assert(mt.eom(conn) == nil, "end of message")
end

function M.check(cond, what)
  if not cond then
    error("not ok - " .. what, 2)
  end
  print("ok - " .. what)
end

-- The message was let through exactly as it came.
function M.unchanged(conn, what)
  M.check(mt.getreply(conn) == SMFIR_CONTINUE, what .. ": accepted")
  M.check(not mt.eom_check(conn, MT_HDRADD), what .. ": no header added")
  M.check(not mt.eom_check(conn, MT_HDRCHANGE), what .. ": no header changed")
  M.check(not mt.eom_check(conn, MT_HDRDELETE), what .. ": no header removed")
  M.check(not mt.eom_check(conn, MT_BODYCHANGE), what .. ": body unchanged")
end

-- The milter answered with its own reply code instead of accepting (451
-- 4.7.0: the MTA keeps the message; the code itself is checked through a
-- real Postfix, as miltertest's MT_SMTPREPLY check does not work).
function M.tempfailed(conn, what)
  M.check(mt.getreply(conn) == SMFIR_REPLYCODE, what .. ": a reply code, not acceptance")
  M.check(not mt.eom_check(conn, MT_BODYCHANGE), what .. ": body not replaced")
  M.check(not mt.eom_check(conn, MT_HDRADD), what .. ": no header added")
end

-- The milter refused the message (a reply code: 552 5.3.4 for one over
-- max_size, checked through a real Postfix): nothing changed, nothing let
-- through.
function M.refused(conn, what)
  M.check(mt.getreply(conn) == SMFIR_REPLYCODE, what .. ": a reply code, not acceptance")
  M.check(not mt.eom_check(conn, MT_BODYCHANGE), what .. ": body not replaced")
  M.check(not mt.eom_check(conn, MT_HDRADD), what .. ": no header added")
end

M.ssn_body = "Dear Ms Doe,\r\n\r\nYour Social Security number 536-22-8714 is on file.\r\n"
M.plain_body = "Hello,\r\n\r\nThe quarterly meeting moves to Thursday at 10.\r\n\r\nRegards\r\n"

return M
