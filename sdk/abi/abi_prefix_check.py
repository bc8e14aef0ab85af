#!/usr/bin/env python3
"""Strict half of the ABI gate (DESIGN.md B6), run after abidiff by check_abi.cmake.

sdk.abignore lets abidiff accept members appended at the end of an av_* struct. libabigail
2.2 applies that suppression to *any* change of such a struct that deletes no member and
does not shrink it: a member whose type changes in place (bool -> int32_t), a function
pointer whose signature changes, a typedef retargeted to another type of the same size...
all pass abidiff with the suppression. This script closes that hole by comparing the two
abidw dumps structurally:

  * every av_* struct of the baseline still exists, is not smaller, and its baseline
    members are still its first members, in order, with the same names, offsets and types
    (types compared through typedefs, pointers, qualifiers and function signatures);
    new members may only follow them;
  * every av_* typedef of the baseline still names the same type;
  * every exported function of the baseline still exists with the same signature.

usage: abi_prefix_check.py BASELINE.abi.xml CURRENT.abi.xml     (exit 0 = compatible)
"""
import sys
import xml.etree.ElementTree as ET


class Corpus:
    def __init__(self, path):
        root = ET.parse(path).getroot()
        self.types = {}      # type-id -> element
        self.structs = {}    # name -> element (complete definitions only)
        self.typedefs = {}   # name -> element
        self.functions = {}  # name -> function-decl element
        for el in root.iter():
            tid = el.get("id")
            if tid is not None and el.tag != "function-decl":
                self.types[tid] = el
            if el.tag == "class-decl" and el.get("name") and el.get("is-declaration-only") != "yes":
                self.structs.setdefault(el.get("name"), el)
            elif el.tag == "typedef-decl" and el.get("name"):
                self.typedefs.setdefault(el.get("name"), el)
            elif el.tag == "function-decl" and el.get("name"):
                self.functions[el.get("name")] = el
        self._memo = {}

    def canon(self, tid):
        """A string naming the type, independent of type-ids; structs by name only."""
        if tid in self._memo:
            return self._memo[tid]
        self._memo[tid] = "<recursive %s>" % tid
        el = self.types.get(tid)
        if el is None:
            s = "<unknown %s>" % tid
        elif el.tag == "type-decl":
            s = "%s:%s" % (el.get("name"), el.get("size-in-bits", "?"))
        elif el.tag in ("class-decl", "union-decl"):
            kind = "struct" if el.get("is-struct") == "yes" else ("union" if el.tag == "union-decl" else "class")
            s = "%s %s" % (kind, el.get("name") or "<anonymous>")
            if not el.get("name"):  # anonymous aggregates have no name to compare: spell them out
                s += "{" + ";".join(self.member_sig(m) for m in self.members(el)) + "}"
        elif el.tag == "enum-decl":
            s = "enum %s{%s}" % (el.get("name", ""), ",".join(
                "%s=%s" % (e.get("name"), e.get("value")) for e in el.findall("enumerator")))
        elif el.tag == "typedef-decl":
            # Our typedefs are part of the contract; libc's (int32_t -> __int32_t -> int)
            # are looked through so that a libc reshuffle is not reported.
            inner = self.canon(el.get("type-id"))
            s = "typedef %s=%s" % (el.get("name"), inner) if el.get("name", "").startswith("av_") else inner
        elif el.tag == "pointer-type-def":
            s = "ptr(%s)" % self.canon(el.get("type-id"))
        elif el.tag == "reference-type-def":
            s = "ref(%s)" % self.canon(el.get("type-id"))
        elif el.tag == "qualified-type-def":
            quals = [q for q in ("const", "volatile", "restrict") if el.get(q) == "yes"]
            s = "%s(%s)" % ("+".join(quals), self.canon(el.get("type-id")))
        elif el.tag == "array-type-def":
            dims = ",".join(sr.get("length", "?") for sr in el.findall("subrange"))
            s = "array[%s](%s)" % (dims, self.canon(el.get("type-id")))
        elif el.tag == "function-type":
            s = self.signature(el)
        else:
            s = "<%s %s>" % (el.tag, el.get("name", ""))
        self._memo[tid] = s
        return s

    def signature(self, el):
        params = []
        for p in el.findall("parameter"):
            params.append("..." if p.get("is-variadic") == "yes" else self.canon(p.get("type-id")))
        ret = el.find("return")
        return "fn(%s)->%s" % (",".join(params), self.canon(ret.get("type-id")) if ret is not None else "?")

    @staticmethod
    def members(el):
        out = []
        for dm in el.findall("data-member"):
            var = dm.find("var-decl")
            if var is not None:
                out.append((var.get("name"), int(dm.get("layout-offset-in-bits", "0")), var.get("type-id")))
        return out

    def member_sig(self, m):
        return "%s@%d:%s" % (m[0], m[1], self.canon(m[2]))


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    base, cur = Corpus(sys.argv[1]), Corpus(sys.argv[2])
    problems = []
    checked = 0
    for name, b in sorted(base.structs.items()):
        if not name.startswith("av_"):
            continue
        checked += 1
        c = cur.structs.get(name)
        if c is None:
            problems.append("struct %s: gone" % name)
            continue
        bsize, csize = int(b.get("size-in-bits", "0")), int(c.get("size-in-bits", "0"))
        if csize < bsize:
            problems.append("struct %s: shrank from %d to %d bits" % (name, bsize, csize))
        bm, cm = Corpus.members(b), Corpus.members(c)
        for i, m in enumerate(bm):
            want = base.member_sig(m)
            if i >= len(cm):
                problems.append("struct %s: member %s was removed" % (name, want))
                continue
            got = cur.member_sig(cm[i])
            if got != want:
                problems.append("struct %s: member #%d changed:\n      was %s\n      now %s" % (name, i, want, got))
        if bm and len(cm) > len(bm):
            last_end = bm[-1][1]
            for m in cm[len(bm):]:
                if m[1] <= last_end:
                    problems.append("struct %s: new member %s is not after the old members" % (name, cur.member_sig(m)))
    for name, b in sorted(base.typedefs.items()):
        if not name.startswith("av_"):
            continue
        checked += 1
        c = cur.typedefs.get(name)
        if c is None:
            problems.append("typedef %s: gone" % name)
        elif base.canon(b.get("id")) != cur.canon(c.get("id")):
            problems.append("typedef %s changed:\n      was %s\n      now %s" % (name, base.canon(b.get("id")), cur.canon(c.get("id"))))
    for name, b in sorted(base.functions.items()):
        checked += 1
        c = cur.functions.get(name)
        if c is None:
            problems.append("function %s: gone" % name)
        elif base.signature(b) != cur.signature(c):
            problems.append("function %s changed:\n      was %s\n      now %s" % (name, base.signature(b), cur.signature(c)))
    if problems:
        print("ABI prefix check: %d incompatible change(s):" % len(problems))
        for p in problems:
            print("  - " + p)
        return 1
    print("ABI prefix check: %d structs/typedefs/functions keep their baseline layout and types" % checked)
    return 0


if __name__ == "__main__":
    sys.exit(main())
