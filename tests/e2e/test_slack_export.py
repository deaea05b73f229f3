"""`/inclog export` on Slack: the file goes up through files_upload_v2 (an upload URL, the bytes,
then completeUploadExternal) to the channel it was asked in; the stand-in shows what arrived."""

from __future__ import annotations

import csv
import io

from tests.slack_harness import SlackBot


async def test_log_export_is_uploaded_to_the_channel_with_files_upload_v2(
    slack: SlackBot,
) -> None:
    await slack.slash("/checkin", "pharmacy down cabinets on override", user="U1")
    await slack.slash("/checkin", "lab partial =cmd|' /C calc'!A0", user="U2")

    ack = await slack.slash("/inclog", "export csv", user="it1", channel="C0IT")
    await slack.settle()

    assert ack["response_type"] == "ephemeral"
    assert ack["text"].startswith("Exported 2 entries of the incident log as CSV.")
    [upload] = slack.stub.shared_files()
    assert upload.filename.startswith("lifeline-log-general-hospital-")
    assert upload.filename.endswith(".csv")
    assert (upload.channel, upload.thread_ts, upload.title) == (
        "C0IT", None, "Incident log — General Hospital",
    )  # fmt: skip
    assert upload.data is not None and upload.length == len(upload.data)
    rows = list(csv.DictReader(io.StringIO(upload.data.decode("utf-8-sig"), newline="")))
    assert [(r["department"], r["actor_name"], r["text"]) for r in rows] == [
        ("pharmacy", "Dr. Alice Rivera", "cabinets on override"),
        ("lab", "Sam Okafor (Pharmacy)", "'=cmd|' /C calc'!A0"),
    ]
    methods = [c.method for c in slack.stub.calls if c.method.startswith(("files.", "upload"))]
    assert methods == ["files.getUploadURLExternal", "upload", "files.completeUploadExternal"]


async def test_a_mention_export_goes_to_its_thread_and_a_refusal_uploads_nothing(
    slack: SlackBot,
) -> None:
    await slack.slash("/checkin", "icu up", user="U1")
    await slack.mention("<@UBOT> log export jsonl", event_id="Ev1", user="it1", ts="1700000100.5")
    refused = await slack.slash("/inclog", "export", user="U1")
    await slack.settle()

    assert refused["text"].startswith("Only the admin, commander, it or incident commander")
    [upload] = slack.stub.shared_files()
    assert (upload.channel, upload.thread_ts) == ("C1", "1700000100.5")
    assert upload.filename.endswith(".jsonl")
    assert upload.data is not None and b'"department": "icu"' in upload.data


async def test_on_close_the_report_is_posted_to_the_incident_channel_as_files(
    slack: SlackBot,
) -> None:
    await slack.slash("/incident", 'start "Teams outage" sev 2', user="ic1", channel="C0INC")
    await slack.slash("/checkin", "pharmacy down cabinets on override", user="U1")
    await slack.settle()

    closed = await slack.slash("/incident", "close Teams restored", user="ic1", channel="C0INC")
    await slack.settle()

    assert "get it again any time with: incident report INC-" in closed["text"]
    shared = slack.stub.shared_files()
    assert [(u.channel, u.filename.rsplit(".", 1)[1]) for u in shared] == [
        ("C0INC", "md"), ("C0INC", "html"),
    ]  # fmt: skip
    markdown = shared[0].data or b""
    assert b"# After-action report \\(draft\\)" in markdown
    assert b"Pharmacy" in markdown and b"cabinets on override" in markdown
    html = shared[1].data or b""
    assert html.startswith(b"<!DOCTYPE html>")
    posted = [c.text for c in slack.stub.calls_to("chat.postMessage")]
    assert any(text.startswith("After-action report draft — INC-") for text in posted)
