#!/bin/sh
# md2man.sh - converts the small Markdown subset of tools/hollow-*.1.md to
# roff (man(7)), with awk only.  Usage: sh scripts/md2man.sh PAGE.1.md
#
# Subset understood:
#   % NAME(SECTION) SOURCE DATE  title line (first line)
#   # HEADING                    section (.SH), ## HEADING subsection (.SS)
#   blank-line separated paragraphs (.PP)
#   TERM line then ":   text"    definition list (.TP), e.g. options
#   - item                       bullet list
#   ``` fenced ``` or 4-space indented blocks: verbatim (.nf/.fi)
#   `code` and **bold** -> bold, *text* -> italic
set -eu
[ $# -eq 1 ] || { echo "usage: md2man.sh PAGE.1.md" >&2; exit 2; }
[ -r "$1" ] || { echo "md2man.sh: $1: cannot read" >&2; exit 2; }

awk '
function esc(s) {
  gsub(/\\/, "\\e", s)
  gsub(/-/, "\\-", s)
  return s
}
# Inline markup after escaping; roff font escapes are not nestable here.
function inline(s,   out, m) {
  s = esc(s)
  while (match(s, /`[^`]+`/)) {
    s = substr(s, 1, RSTART - 1) "\\fB" substr(s, RSTART + 1, RLENGTH - 2) "\\fR" substr(s, RSTART + RLENGTH)
  }
  while (match(s, /\*\*[^*]+\*\*/)) {
    s = substr(s, 1, RSTART - 1) "\\fB" substr(s, RSTART + 2, RLENGTH - 4) "\\fR" substr(s, RSTART + RLENGTH)
  }
  while (match(s, /\*[^* ][^*]*\*/)) {
    s = substr(s, 1, RSTART - 1) "\\fI" substr(s, RSTART + 1, RLENGTH - 2) "\\fR" substr(s, RSTART + RLENGTH)
  }
  return s
}
# A text line must not start with a control character.
function line(s) {
  if (s ~ /^[.\047]/) s = "\\&" s
  print s
}
function endverb() { if (verb) { print ".fi"; print ".RE"; verb = 0 } }
BEGIN { verb = 0; fence = 0; pending = ""; para = 0 }
NR == 1 && /^% / {
  t = substr($0, 3)
  n = split(t, w, " ")
  name = w[1]; sec = "1"
  if (match(name, /\([0-9a-z]+\)$/)) {
    sec = substr(name, RSTART + 1, RLENGTH - 2); name = substr(name, 1, RSTART - 1)
  }
  src = (n >= 2) ? w[2] : ""; for (i = 3; i <= n; i++) src = src " " w[i]
  printf ".TH \"%s\" \"%s\" \"\" \"%s\" \"User Commands\"\n", toupper(name), sec, src
  next
}
fence {
  if ($0 ~ /^```/) { fence = 0; endverb(); next }
  line(esc($0)); next
}
/^```/ { flush(); fence = 1; verb = 1; print ".sp"; print ".RS 4"; print ".nf"; next }
/^    / && !inlist {
  flush()
  if (!verb) { print ".sp"; print ".RS 4"; print ".nf"; verb = 1 }
  line(esc(substr($0, 5))); next
}
{ endverb() }
/^# / { flush(); print ".SH " toupper(esc(substr($0, 3))); para = 0; next }
/^## / { flush(); print ".SS " esc(substr($0, 4)); para = 0; next }
/^$/ { flush(); para = 1; inlist = 0; next }
/^:   / {
  print ".TP"; line(inline(pending)); pending = ""
  line(inline(substr($0, 5))); inlist = 1; next
}
/^- / {
  flush(); print ".IP \\(bu 2"; line(inline(substr($0, 3))); inlist = 1; next
}
inlist && /^  +[^ ]/ { sub(/^ +/, ""); line(inline($0)); next }
{
  if (pending != "") { if (para) { print ".PP"; para = 0 } line(inline(pending)) }
  pending = $0
}
function flush() {
  if (pending != "") { if (para) print ".PP"; line(inline(pending)); pending = "" }
  para = 0
}
END { flush(); endverb() }
' "$1"
