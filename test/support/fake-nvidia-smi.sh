#!/bin/sh
# Fake nvidia-smi for tests: installed as `nvidia-smi` in a directory that comes first on the test sshd's
# PATH (see fake-nvidia-smi.ts). It prints REAL captured output (test/fixtures/nvidia-smi, provenance in
# PROVENANCE.md) for the scenario named in `nvidia-smi.scenario` next to this script:
#   <capture>__<idle|load>   e.g. linux-x86_64__nvidia-h100-mig__590.48.01__load
#   driver-not-loaded | no-devices-found | nvml-driver-library-mismatch | nvml-unknown-error | command-not-found
#
# Like the real tool it honours the requested field list: columns come out in the requested order, aliases
# (`gpu_uuid` for `uuid`, `used_memory` for `used_gpu_memory`, ...) are accepted as the captured driver's own
# `--help-query-*` lists them, and a field that driver does not know is refused with nvidia-smi's words.
# Exit codes it cannot know for sure are marked "assumed" below.
#
# An older driver is emulated by `nvidia-smi.unknown-fields` next to this script (one field name per line):
# those names vanish from --help-query-* and a query naming one is refused like a driver that lacks it.
#
# Supported: --query-gpu=F --format=csv[,noheader][,nounits]; --query-compute-apps=F --format=...;
# --help-query-gpu; --help-query-compute-apps; --version; -L / --list-gpus; no arguments (default table).
# Anything else exits 70 (EX_SOFTWARE), so a test never mistakes an unsupported call for real output.

here=$(cd "$(dirname "$0")" && pwd) || exit 70
data="$here/nvidia-smi-data"
scenario=$(cat "$here/nvidia-smi.scenario" 2>/dev/null) || {
  echo "fake nvidia-smi: no scenario file $here/nvidia-smi.scenario" >&2
  exit 70
}

case "$scenario" in
  driver-not-loaded)
    # exit 9 = "NVIDIA driver is not loaded" (man page); printed on stdout in the reports seen.
    cat "$data/errors/driver-not-loaded.stdout.txt"; exit 9 ;;
  no-devices-found)
    # exit 6 = "object not found" (man page); stream assumed: stdout.
    cat "$data/errors/no-devices-found.txt"; exit 6 ;;
  nvml-driver-library-mismatch)
    # exit 18 assumed (NVML_ERROR_LIB_RM_VERSION_MISMATCH); stream assumed: stdout.
    cat "$data/errors/nvml-driver-library-mismatch.txt"; exit 18 ;;
  nvml-unknown-error)
    # exit 255 assumed ("other error" in the man page); stream assumed: stdout.
    cat "$data/errors/nvml-unknown-error.txt"; exit 255 ;;
  command-not-found)
    # Emulates the shell (dash) not finding nvidia-smi; line 2 of the fixture is an annotation, not output.
    sed -n 1p "$data/errors/command-not-found.dash-sh-c.stderr.txt" >&2; exit 127 ;;
esac

dir="$data/scenarios/$scenario"
if [ ! -d "$dir" ]; then
  echo "fake nvidia-smi: unknown scenario '$scenario' (no $dir)" >&2
  exit 70
fi

kind=; fields=; format=; mode=
for arg in "$@"; do
  case "$arg" in
    --query-gpu=*) kind=gpu; fields=${arg#*=} ;;
    --query-compute-apps=*) kind=apps; fields=${arg#*=} ;;
    --format=*) format=${arg#*=} ;;
    --version) mode=version ;;
    --help-query-gpu) mode=help-gpu ;;
    --help-query-compute-apps) mode=help-apps ;;
    -L|--list-gpus) mode=list ;;
    *) echo "fake nvidia-smi: unsupported argument: $arg" >&2; exit 70 ;;
  esac
done

show() {
  if [ -f "$1" ]; then cat "$1"; exit 0; fi
  echo "fake nvidia-smi: scenario '$scenario' has no capture for this call ($1)" >&2
  exit 70
}

unknown="$here/nvidia-smi.unknown-fields"
[ -f "$unknown" ] || unknown=/dev/null

# The driver's --help-query-* text without the names it does not know (an entry whose every name is
# unknown goes with its description paragraph).
help_without_unknown() {
  awk -v unknown="$unknown" '
    BEGIN { while ((getline n < unknown) > 0) if (n != "") gone[n] = 1 }
    /^"/ {
      out = ""; rest = $0; removed = 0
      while (match(rest, /"[^"]+"/)) {
        name = substr(rest, RSTART + 1, RLENGTH - 2)
        if (name in gone) removed = 1
        else out = out (out == "" ? "" : " or ") "\"" name "\""
        rest = substr(rest, RSTART + RLENGTH)
      }
      skipping = (out == "")
      if (!removed) print
      else if (!skipping) print out
      next
    }
    /^$/ { if (skipping) { skipping = 0; next } }
    { if (!skipping) print }
  ' "$1"
}

if [ -z "$kind" ]; then
  case "$mode" in
    help-gpu) [ -f "$dir/help-query-gpu.txt" ] || show "$dir/help-query-gpu.txt"; help_without_unknown "$dir/help-query-gpu.txt"; exit 0 ;;
    help-apps) [ -f "$dir/help-query-compute-apps.txt" ] || show "$dir/help-query-compute-apps.txt"; help_without_unknown "$dir/help-query-compute-apps.txt"; exit 0 ;;
    version) show "$dir/version.txt" ;;
    list) show "$dir/list-gpus.txt" ;;
    '') show "$dir/default-table.txt" ;;
  esac
fi

case ",$format," in
  *,csv,*) ;;
  *) echo "fake nvidia-smi: --format=csv[,noheader][,nounits] is required with --query-*" >&2; exit 70 ;;
esac
noheader=0; nounits=0
case ",$format," in *,noheader,*) noheader=1 ;; esac
case ",$format," in *,nounits,*) nounits=1 ;; esac

if [ "$kind" = gpu ]; then help="$dir/help-query-gpu.txt"; else help="$dir/help-query-compute-apps.txt"; fi
# A capture with units serves nounits too: nvidia-smi's nounits drops the unit that the header names
# (`memory.used [MiB]`: "1024 MiB" -> "1024") and keeps the header as it is.
wide="$dir/$kind.csv"; strip=$nounits
if [ "$nounits" = 1 ] && [ -f "$dir/$kind.nounits.csv" ]; then wide="$dir/$kind.nounits.csv"; strip=0; fi
[ -f "$wide" ] && [ -f "$help" ] || { echo "fake nvidia-smi: scenario '$scenario' lacks $wide or $help" >&2; exit 70; }

# One awk pass: learn the driver's field names and aliases from its --help-query-* text, map the requested
# names and the wide CSV's header onto them, then print the requested columns in the requested order.
exec awk -v want="$fields" -v noheader="$noheader" -v strip="$strip" -v help="$help" -v unknown="$unknown" -v scenario="$scenario" '
function canon(name) { return (name in alias) ? alias[name] : "" }
BEGIN {
  while ((getline n < unknown) > 0) if (n != "") gone[n] = 1
  # Help lines look like: "uuid" or "gpu_uuid"   -> both map to the first name. Every name of an entry
  # maps to the same canonical one, so a driver that lost only the newer name still answers the older.
  while ((getline line < help) > 0) {
    if (line !~ /^"/) continue
    first = ""
    rest = line
    while (match(rest, /"[^"]+"/)) {
      name = substr(rest, RSTART + 1, RLENGTH - 2)
      if (first == "") first = name
      if (!(name in gone)) alias[name] = first
      rest = substr(rest, RSTART + RLENGTH)
    }
  }
  close(help)
  nwant = split(want, w, ",")
  for (i = 1; i <= nwant; i++) {
    if (canon(w[i]) == "") {
      # nvidia-smi rejects the whole query for one unknown field (exit code 2 assumed: "invalid argument").
      printf "Field \"%s\" is not a valid field to query.\n", w[i]
      bad = 2
      exit 2
    }
    wc[i] = canon(w[i])
  }
}
NR == 1 {
  ncol = split($0, h, ", ")
  for (j = 1; j <= ncol; j++) {
    name = h[j]
    unit[j] = ""
    if (match(name, / \[[^]]*\]$/)) unit[j] = substr(name, RSTART + 2, RLENGTH - 3)
    sub(/ \[[^]]*\]$/, "", name)
    c = canon(name)
    if (c == "") c = name
    col[c] = j
    if (c == "process_name") joincol = j
  }
  for (i = 1; i <= nwant; i++) {
    if (!(wc[i] in col)) {
      printf "fake nvidia-smi: the capture for scenario %s has no column for field \"%s\" (a real driver would answer it)\n", scenario, w[i] > "/dev/stderr"
      bad = 70
      exit 70
    }
    pick[i] = col[wc[i]]
  }
  if (noheader != 1) emit(h)
  next
}
{
  n = split($0, v, ", ")
  if (n > ncol && joincol > 0) {
    # A process name with ", " in it: fold the surplus back into that column.
    surplus = n - ncol
    for (k = 1; k <= surplus; k++) v[joincol] = v[joincol] ", " v[joincol + k]
    for (k = joincol + 1; k <= ncol; k++) v[k] = v[k + surplus]
  } else if (n != ncol) {
    printf "fake nvidia-smi: row %d of the capture has %d columns, header has %d\n", NR, n, ncol > "/dev/stderr"
    bad = 70
    exit 70
  }
  if (strip == 1) for (j = 1; j <= ncol; j++) if (unit[j] != "" && substr(v[j], length(v[j]) - length(unit[j])) == " " unit[j]) v[j] = substr(v[j], 1, length(v[j]) - length(unit[j]) - 1)
  emit(v)
}
function emit(a,    i, out) {
  out = ""
  for (i = 1; i <= nwant; i++) out = out (i > 1 ? ", " : "") a[pick[i]]
  print out
}
END { if (bad) exit bad }
' "$wide"
