#!/usr/bin/env python3
"""Prints line coverage of src/ from a Cobertura report, per assembly and in total; exits 1 below the minimum."""
import sys
import xml.etree.ElementTree as ET

report, minimum = sys.argv[1], float(sys.argv[2])
root = ET.parse(report).getroot()
sources = [s.text.rstrip("/") for s in root.iter("source") if s.text]
total_lines = total_hit = 0
for package in root.iter("package"):
    lines = hit = 0
    for cls in package.iter("class"):
        filename = cls.get("filename", "").replace("\\", "/")
        if not filename.startswith("/") and sources:
            filename = sources[0] + "/" + filename
        # Only hand-written code under src/: generated files live under obj/.
        if "/src/" not in "/" + filename or "/obj/" in filename:
            continue
        seen = {}
        for line in cls.iter("line"):
            number = line.get("number")
            seen[number] = max(seen.get(number, 0), int(line.get("hits", "0")))
        lines += len(seen)
        hit += sum(1 for h in seen.values() if h > 0)
    if lines:
        print(f"coverage {package.get('name')}: {100.0 * hit / lines:.1f}% ({hit}/{lines} lines)")
    total_lines += lines
    total_hit += hit
percent = 100.0 * total_hit / total_lines if total_lines else 0.0
print(f"coverage src/: {percent:.1f}% of lines ({total_hit}/{total_lines}); minimum {minimum:.0f}%")
sys.exit(0 if percent >= minimum else 1)
