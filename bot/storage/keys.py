"""Every Redis key Lifeline uses, in one place.

All keys of a facility share the hash tag `{facility}`, so a command's multi-key write (log entry,
its indexes, department state, incident) is one slot and stays atomic on Redis Cluster too.
"""

from __future__ import annotations

from bot.domain.log_query import IndexDimension


class Keys:
    def __init__(self, facility_slug: str) -> None:
        self.root = f"lifeline:{{{facility_slug}}}"

    @property
    def log(self) -> str:
        """The append-only activity log (a Redis Stream, never trimmed)."""
        return f"{self.root}:log"

    def index(self, dimension: IndexDimension, value: str) -> str:
        """Secondary index: a sorted set of log ids (lexically ordered) for one filter value."""
        return f"{self.root}:idx:{dimension}:{value}"

    def idempotency(self, command_id: str) -> str:
        return f"{self.root}:idem:{command_id}"

    def platform_event(self, platform: str, event_id: str) -> str:
        """String with a TTL: a platform event already taken, so its retries are answered once."""
        return f"{self.root}:{platform}:event:{event_id}"

    def department(self, dept_id: str) -> str:
        """Hash: the department's latest check-in (`checkin`, `entry_id`), and `sent`: who said
        what in it and when, so the same check-in sent again soon after is not recorded twice."""
        return f"{self.root}:dept:{dept_id}"

    @property
    def current_incident(self) -> str:
        return f"{self.root}:incident:current"

    @property
    def current_period(self) -> str:
        """String "INC-… <period>" while an incident is open: what a check-in is filed under.
        Check-ins write against a cached copy and a guard on this key, in one round trip."""
        return f"{self.root}:incident:current:period"

    def incident(self, incident_id: str) -> str:
        return f"{self.root}:incident:{incident_id}"

    def incident_sequence(self, day: str) -> str:
        return f"{self.root}:incident:seq:{day}"

    def board_messages(self, incident_id: str) -> str:
        """Hash: transport → the live board message (channel and id) for an incident."""
        return f"{self.root}:incident:{incident_id}:board"

    @property
    def incidents(self) -> str:
        """Sorted set of incident ids by opening time."""
        return f"{self.root}:incidents"

    def runbook_runs(self, incident_id: str) -> str:
        """Sorted set: ids of the runbooks started in an incident, by start time."""
        return f"{self.root}:incident:{incident_id}:runbooks"

    def runbook_run(self, incident_id: str, runbook_id: str) -> str:
        """String: who started an incident's run of a runbook, and when (one run per runbook)."""
        return f"{self.root}:incident:{incident_id}:runbook:{runbook_id}"

    def runbook_step(self, incident_id: str, runbook_id: str, step_id: str) -> str:
        """String: who marked a step of a run done, when, with what note; absent when not done."""
        return f"{self.root}:incident:{incident_id}:runbook:{runbook_id}:step:{step_id}"

    @property
    def broadcast_sequence(self) -> str:
        return f"{self.root}:broadcast:seq"

    @property
    def broadcasts(self) -> str:
        """Sorted set of broadcast ids by sending time."""
        return f"{self.root}:broadcasts"

    def broadcast(self, broadcast_id: str) -> str:
        """String: the broadcast (HICS 213 message) as JSON."""
        return f"{self.root}:broadcast:{broadcast_id}"

    def broadcast_acks(self, broadcast_id: str) -> str:
        """Hash: actor id → the acknowledgement as JSON (who, when, where)."""
        return f"{self.root}:broadcast:{broadcast_id}:acks"

    def broadcast_ack(self, broadcast_id: str, actor_id: str) -> str:
        """String guard: present once a person has acknowledged, so an ack counts once."""
        return f"{self.root}:broadcast:{broadcast_id}:ack:{actor_id}"

    def broadcast_copies(self, broadcast_id: str) -> str:
        """Hash: "transport channel" → message id of each delivered copy."""
        return f"{self.root}:broadcast:{broadcast_id}:copies"

    def broadcast_failures(self, broadcast_id: str) -> str:
        """Hash: "transport channel" → why a copy could not be delivered."""
        return f"{self.root}:broadcast:{broadcast_id}:failed"

    def broadcast_by_message(self, transport: str, message_id: str) -> str:
        """String: which broadcast a posted message is a copy of (reactions count as acks)."""
        return f"{self.root}:broadcast-message:{transport}:{message_id}"

    def viewers(self, surface: str) -> str:
        """Sorted set: who opened a personal view (a Slack Home tab) recently, by when; each
        member is pruned once it is older than the audience's time to live."""
        return f"{self.root}:viewers:{surface}"

    @property
    def chosen_departments(self) -> str:
        """Hash: actor id → the department they chose as theirs (pre-set in check-in forms)."""
        return f"{self.root}:people:department"

    @property
    def schedule(self) -> str:
        """Sorted set: scheduled jobs (JSON) by due time; claimed atomically by one process."""
        return f"{self.root}:schedule"

    @property
    def board_link_secret(self) -> str:
        """String: the HMAC key that signs web board links (made once, at random)."""
        return f"{self.root}:board:secret"

    @property
    def board_link_generation(self) -> str:
        """Integer: links signed with an older generation are revoked (`board revoke`)."""
        return f"{self.root}:board:generation"

    @property
    def outbox(self) -> str:
        """Stream: messages owed to channels, read by the deliverers' consumer group; an entry
        is deleted once every target has its copy (or its failure is reported)."""
        return f"{self.root}:outbox"

    def outbox_targets(self, entry_id: str) -> str:
        """Hash: target → how far one outbox entry got there (sending, sent, failed)."""
        return f"{self.root}:outbox:{entry_id}:targets"
