"""The PHI guard measured on its corpus: false positives and negatives, and time per text.

python -m bench.phi_corpus
"""

from __future__ import annotations

import time
from pathlib import Path

from bot.domain.facility import PhiPolicy
from bot.domain.phi_guard import findings

CORPUS = Path(__file__).parent.parent / "tests" / "phi_corpus"


def lines(name: str) -> list[str]:
    text = (CORPUS / name).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def main() -> None:
    policy = PhiPolicy()
    for label, clean_file, phi_file in (
        ("corpus", "operational.txt", "phi.txt"),
        ("held-out, then tuned on once", "heldout_operational.txt", "heldout_phi.txt"),
        ("blind (never tuned on)", "blind_operational.txt", "blind_phi.txt"),
    ):
        clean, phi = lines(clean_file), lines(phi_file)
        false_positives = [text for text in clean if findings(text, policy)]
        false_negatives = [text for text in phi if not findings(text, policy)]
        print(
            f"{label}: {len(clean)} operational, {len(false_positives)} held wrongly; "
            f"{len(phi)} PHI-like, {len(false_negatives)} let through"
        )
        for text in false_positives:
            print(f"  false positive: {text}")
        for text in false_negatives:
            print(f"  false negative: {text}")
    texts = lines("operational.txt") + lines("phi.txt")
    started = time.perf_counter()
    rounds = 20
    for _ in range(rounds):
        for text in texts:
            findings(text, policy)
    per_text = (time.perf_counter() - started) / (rounds * len(texts))
    print(f"time per text: {per_text * 1e6:.1f} µs")


if __name__ == "__main__":
    main()
