"""What runs on its own: the live board, fan-out, roll call, scheduler, runbook library."""
