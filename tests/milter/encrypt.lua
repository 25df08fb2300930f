-- A flagged message with an SSN from the organisation to the outside is
-- replaced by the carrier: flag and control headers gone, the rest kept.
local t = dofile(os.getenv("MT_DIR") .. "/common.lua")
local conn = t.connect()
t.send(conn, "4QX1A", "dr@clinic.example", {"pat@example.com"}, {
  {"From", "Dr Who <dr@clinic.example>"},
  {"To", "Pat Doe <pat@example.com>"},
  {"Date", "Sun, 22 Nov 2026 09:00:00 +0000"},
  {"Message-ID", "<m1@clinic.example>"},
  {"Subject", "[secure] Your results"},
  {"X-Sealpost-Encrypt", "yes"},
  {"X-Mailer", "Clinic Mail 2.1"},
  {"Thread-Topic", "Your results"},
  {"MIME-Version", "1.0"},
  {"Content-Type", "text/plain; charset=utf-8"},
}, t.ssn_body)
t.check(mt.getreply(conn) == SMFIR_CONTINUE, "accepted for delivery")
t.check(mt.eom_check(conn, MT_BODYCHANGE), "body replaced by the carrier")
t.check(mt.eom_check(conn, MT_HDRCHANGE, "Subject", " Your results"), "subject flag removed")
t.check(mt.eom_check(conn, MT_HDRDELETE, "X-Sealpost-Encrypt"), "control header removed")
t.check(mt.eom_check(conn, MT_HDRDELETE, "X-Mailer"), "X-Mailer removed")
t.check(mt.eom_check(conn, MT_HDRDELETE, "Thread-Topic"), "Thread-Topic removed (it repeats the subject)")
-- One edit per field the carrier replaces: changed in place, not deleted
-- and added again (each edit costs Postfix a pass over its queue file).
t.check(mt.eom_check(conn, MT_HDRCHANGE, "Content-Type"), "the original Content-Type changed to the carrier's")
t.check(not mt.eom_check(conn, MT_HDRDELETE, "Content-Type"), "Content-Type not deleted")
t.check(not mt.eom_check(conn, MT_HDRADD, "Content-Type"), "no second Content-Type added")
t.check(not mt.eom_check(conn, MT_HDRADD, "MIME-Version"), "no second MIME-Version added")
t.check(mt.eom_check(conn, MT_HDRADD, "X-Sealpost-Id"), "X-Sealpost-Id added")
for _, h in ipairs({"From", "To", "Date", "Message-ID"}) do
  t.check(not mt.eom_check(conn, MT_HDRDELETE, h), h .. " kept")
  t.check(not mt.eom_check(conn, MT_HDRCHANGE, h), h .. " unchanged")
end
t.check(not mt.eom_check(conn, MT_HDRADD, "Subject"), "no second Subject")

-- The same connection carries a second message: state is per message.
t.send(conn, "4QX1B", "dr@clinic.example", {"pat@example.com"}, {
  {"From", "dr@clinic.example"},
  {"To", "pat@example.com"},
  {"Subject", "Card on file"},
}, "The card 4556 7375 8689 9855 was charged.\r\n")
t.check(mt.getreply(conn) == SMFIR_CONTINUE, "second message accepted")
t.check(mt.eom_check(conn, MT_BODYCHANGE), "second message (card number) encrypted")
t.check(not mt.eom_check(conn, MT_HDRCHANGE, "Subject"), "an unflagged subject is left alone")
mt.disconnect(conn)
