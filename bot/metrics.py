"""A few Prometheus counters, rendered as text for `GET /metrics`."""

from __future__ import annotations

from collections import Counter


class Metrics:
    def __init__(self) -> None:
        self.commands: Counter[tuple[str, str, str]] = Counter()
        self.duration_sum: dict[str, float] = {}
        self.duration_count: Counter[str] = Counter()
        self.deliveries: Counter[tuple[str, str]] = Counter()

    def command(self, transport: str, name: str, outcome: str, seconds: float) -> None:
        self.commands[(transport, name, outcome)] += 1
        self.duration_sum[name] = self.duration_sum.get(name, 0.0) + seconds
        self.duration_count[name] += 1

    def delivery(self, transport: str, result: str) -> None:
        self.deliveries[(transport, result)] += 1

    def render(self) -> str:
        lines = [
            "# HELP lifeline_commands_total Commands handled, by transport, command and outcome.",
            "# TYPE lifeline_commands_total counter",
        ]
        for (transport, name, outcome), count in sorted(self.commands.items()):
            labels = f'transport="{transport}",command="{name}",outcome="{outcome}"'
            lines.append(f"lifeline_commands_total{{{labels}}} {count}")
        lines += [
            "# HELP lifeline_command_seconds Time to handle a command.",
            "# TYPE lifeline_command_seconds summary",
        ]
        for name in sorted(self.duration_count):
            lines.append(
                f'lifeline_command_seconds_sum{{command="{name}"}} {self.duration_sum[name]:.6f}'
            )
            lines.append(
                f'lifeline_command_seconds_count{{command="{name}"}} {self.duration_count[name]}'
            )
        lines += [
            "# HELP lifeline_deliveries_total Messages sent to chat platforms, by result.",
            "# TYPE lifeline_deliveries_total counter",
        ]
        for (transport, result), count in sorted(self.deliveries.items()):
            lines.append(
                f'lifeline_deliveries_total{{transport="{transport}",result="{result}"}} {count}'
            )
        return "\n".join(lines) + "\n"
