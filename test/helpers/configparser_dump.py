#!/usr/bin/env python3
"""The reference oracle for src/config/ini.ts and src/config/interpolate.ts: python3's configparser
configured as APF used it (strict=False because APF ran on Python 2, which accepted duplicates;
inline ';' comments; BasicInterpolation; case-sensitive keys).

Input (stdin, JSON), either one job or a batch:
  job   = [source, ...]      a source is a list of file paths read by ONE parser (cp.read(files))
  batch = {"jobs": [job, ...]}

Output (stdout, JSON): for a job, an object (for a batch, {"results": [object, ...]}):
  sections    {section: {key: value}}        interpolated value; the raw value when it failed
  order       [[section, [key, ...]], ...]   section and key order (JSON objects lose it for
                                             integer-like keys in JavaScript)
  errors      {section: {key: "InterpolationMissingOptionError" | "InterpolationSyntaxError" |
                                 "InterpolationDepthError"}}
  missing     {section: {key: reference}}    the name an InterpolationMissingOptionError missed
  parseError  null | {type, file, lines}     the first parse error
  parseErrors [{type, file, lines}, ...]     every file's parse error (lines are 1-based)
  complete    false when a MissingSectionHeaderError stopped reading a file part-way (the values
              are then not comparable: Python drops the rest of that file)

One source: values are read with cp.get(section, key) one key at a time, so that each key's error
is captured separately. Several sources: APF's merge. Every section's cp.items(section, raw=True)
is copied, source by source (later wins), into one combined parser without DEFAULT, and values
are interpolated against the combined section. The combined parser stores the raw values with
interpolation=None and values are read through BasicInterpolation().before_get: storing them with
ConfigParser.set would run BasicInterpolation.before_set, which rejects a bad '%' with ValueError
at copy time, whereas the file parser accepts it and fails only when that key is read.

Each file is read with its own cp.read([file]) call (what cp.read([f1, f2]) does internally) so
that a parse error in one file does not hide the following files.
"""
import configparser
import json
import sys


def new_parser():
    cp = configparser.ConfigParser(
        strict=False,
        inline_comment_prefixes=(';',),
        interpolation=configparser.BasicInterpolation(),
    )
    cp.optionxform = str
    return cp


def read_source(files, parse_errors):
    """Reads the files of one source with one parser; returns (parser, complete)."""
    cp = new_parser()
    complete = True
    for f in files:
        try:
            cp.read([f], encoding='utf-8')
        except configparser.MissingSectionHeaderError as e:
            parse_errors.append({'type': 'MissingSectionHeaderError', 'file': f, 'lines': [e.lineno]})
            complete = False
        except configparser.ParsingError as e:
            parse_errors.append({'type': 'ParsingError', 'file': f, 'lines': [ln for ln, _ in e.errors]})
    return cp, complete


def record(out, section, key, read, raw):
    try:
        value = read()
    except configparser.InterpolationError as e:
        out['errors'].setdefault(section, {})[key] = type(e).__name__
        if isinstance(e, configparser.InterpolationMissingOptionError):
            out['missing'].setdefault(section, {})[key] = e.reference
        value = raw
    out['sections'][section][key] = value


def run_job(job):
    parse_errors = []
    complete = True
    parsers = []
    for files in job:
        cp, ok = read_source(files, parse_errors)
        complete = complete and ok
        parsers.append(cp)
    out = {'sections': {}, 'order': [], 'errors': {}, 'missing': {}}
    if len(parsers) == 1:
        cp = parsers[0]
        for section in cp.sections():
            items = cp.items(section, raw=True)
            out['sections'][section] = {}
            out['order'].append([section, [k for k, _ in items]])
            for key, raw in items:
                record(out, section, key, lambda: cp.get(section, key), raw)
    else:
        combined = configparser.ConfigParser(interpolation=None, strict=False)
        combined.optionxform = str
        for cp in parsers:
            for section in cp.sections():
                if not combined.has_section(section):
                    combined.add_section(section)
                for key, raw in cp.items(section, raw=True):
                    combined.set(section, key, raw)
        interp = configparser.BasicInterpolation()
        for section in combined.sections():
            items = combined.items(section, raw=True)
            view = dict(items)
            out['sections'][section] = {}
            out['order'].append([section, [k for k, _ in items]])
            for key, raw in items:
                record(out, section, key, lambda: interp.before_get(combined, section, key, raw, view), raw)
    out['parseError'] = parse_errors[0] if parse_errors else None
    out['parseErrors'] = parse_errors
    out['complete'] = complete
    return out


def main():
    request = json.load(sys.stdin)
    if isinstance(request, dict):
        result = {'results': [run_job(job) for job in request['jobs']]}
    else:
        result = run_job(request)
    json.dump(result, sys.stdout)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
