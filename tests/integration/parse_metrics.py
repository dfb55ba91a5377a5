"""Reads Prometheus text on stdin with prometheus_client's own parser (Debian's
python3-prometheus-client) and prints one line per sample:
FAMILY TYPE SAMPLE {label=value,...} VALUE. Any line the parser refuses makes
it fail, with the parser's words."""
import sys

from prometheus_client.parser import text_string_to_metric_families


def main() -> int:
    for family in text_string_to_metric_families(sys.stdin.read()):
        if not family.documentation:
            print(f"{family.name}: no HELP", file=sys.stderr)
            return 1
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            print(f"{family.name} {family.type} {sample.name} {{{labels}}} {sample.value:g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
