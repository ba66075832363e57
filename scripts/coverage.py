#!/usr/bin/env python3
"""Prints line coverage of src/ from Cobertura reports, per assembly and in total; exits 1 below the minimum.

Usage: coverage.py MINIMUM REPORT [REPORT...]. Each test project writes a report of its own; a line of src/ counts
once, and is covered when any report covers it.
"""
import os
import sys
import xml.etree.ElementTree as ET

minimum, reports = float(sys.argv[1]), sys.argv[2:]
if not reports:
    sys.exit("coverage.py: no report given")

# Absolute file name -> (assembly, {line number -> covered in some report}).
files = {}
for report in reports:
    root = ET.parse(report).getroot()
    sources = [s.text.rstrip("/") for s in root.iter("source") if s.text]
    for package in root.iter("package"):
        for cls in package.iter("class"):
            filename = cls.get("filename", "").replace("\\", "/")
            if not filename.startswith("/") and sources:
                # Reports of different test projects may name different source roots: take the one the file is under.
                base = next((s for s in sources if os.path.exists(os.path.join(s, filename))), sources[0])
                filename = os.path.normpath(os.path.join(base, filename))
            # Only hand-written code under src/: generated files live under obj/.
            if "/src/" not in "/" + filename or "/obj/" in filename:
                continue
            _, seen = files.setdefault(filename, (package.get("name"), {}))
            for line in cls.iter("line"):
                number = line.get("number")
                seen[number] = seen.get(number, False) or int(line.get("hits", "0")) > 0

by_assembly = {}
for assembly, seen in files.values():
    lines, hit = by_assembly.get(assembly, (0, 0))
    by_assembly[assembly] = (lines + len(seen), hit + sum(seen.values()))
for assembly, (lines, hit) in sorted(by_assembly.items()):
    if lines:
        print(f"coverage {assembly}: {100.0 * hit / lines:.1f}% ({hit}/{lines} lines)")
total_lines = sum(lines for lines, _ in by_assembly.values())
total_hit = sum(hit for _, hit in by_assembly.values())
percent = 100.0 * total_hit / total_lines if total_lines else 0.0
print(f"coverage src/: {percent:.1f}% of lines ({total_hit}/{total_lines}) over {len(reports)} report{'s' if len(reports) > 1 else ''}; minimum {minimum:.0f}%")
sys.exit(0 if percent >= minimum else 1)
