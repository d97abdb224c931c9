#!/usr/bin/env bash
# What QuantGate refuses, case by case, against the built binary (issue 17's numbered defects): one line per
# case with its exit code and the first line that says why. Run from anywhere after `swift build -c release`:
#   bash Tools/probe_refusals.sh            (Q=path/to/quantgate to probe another binary)
# The full-disk and read-only cases mount small tmpfs filesystems: they need root and are skipped otherwise.
set -u
R=$(cd "$(dirname "$0")/.." && pwd)
Q=${Q:-$R/.build/release/quantgate}
M=$R/Tests/Fixtures/bard-5m
C="--data $R/Calibration/train/shakespeare --samples 4 --seq-len 128"
T=$(mktemp -d); cd "$T"
head -c 4000 $R/Calibration/eval/hamlet.txt > text.txt
printf '{"id": "1", "prompt": "HAMLET.\\n"}\n' > prompts.jsonl
S="--eval-text text.txt --ctx 128 --smoke-prompts prompts.jsonl --smoke-tokens 16 --tasks $R/Calibration/tasks/hamlet-cloze.jsonl --bootstrap 100"
run() {
    local name="$1"; shift
    "$@" > out.txt 2> err.txt
    local rc=$?
    local why
    why=$(cat err.txt out.txt | grep -iE 'error|not measured|structural check|verified|cannot|refus' | head -1 | sed 's/^ *//' | cut -c1-150)
    printf '%-58s rc=%s  %s\n' "$name" "$rc" "$why"
}
mkdir -p v/sub && echo x > v/sub/f
run "1 calibrate --out DIR" $Q calibrate $M $C --out v --quiet
run "1 quantize cpu --out DIR" $Q quantize $M --target cpu $C --out v --quiet
run "1 eval --baseline-cache DIR" $Q eval $M $M --text text.txt --baseline-cache v --quiet
run "1 quantize --save-imatrix DIR" $Q quantize $M --target cpu $C --out a.gguf --save-imatrix v --quiet
[ -f v/sub/f ] && echo "   v/sub/f intact" || echo "   v/sub/f LOST"
cp -r $M m; run "2 calibrate --out model.safetensors" $Q calibrate m $C --out m/model.safetensors --quiet
cmp -s m/model.safetensors $M/model.safetensors && echo "   weights intact" || echo "   weights LOST"
echo keep > existing.gguf; run "2 quantize cpu onto existing.gguf" $Q quantize $M --format gguf:Q8_0 --out existing.gguf --quiet
echo keep > notes.txt; run "2 eval --baseline-cache notes.txt" $Q eval $M $M --text text.txt --baseline-cache notes.txt --quiet
echo "   $(cat existing.gguf notes.txt | tr '\n' ' ')"
mkdir -p full ro
if mount -t tmpfs -o size=2m tmpfs full 2> /dev/null; then
    run "4 calibrate onto a full disk" $Q calibrate $M $C --out full/x.h5 --quiet
    run "4 quantize cpu onto a full disk" $Q quantize $M --format gguf:F32 --out full/x.gguf --quiet
    echo "   left on the disk: $(ls -A full | wc -l)"
    umount full
    mount -t tmpfs -o size=1m,ro tmpfs ro
    run "4 pipeline --out on a read-only fs" $Q pipeline $M --targets cpu --out ro/pl --quiet
    umount ro
else
    echo "4 full disk, read-only fs: skipped (mounting a tmpfs needs root)"
fi
run "4 --out \"\"" $Q quantize $M --format gguf:Q8_0 --out "" --quiet
run "4 --dump-dequantized onto a file" $Q inspect existing.gguf --dump-dequantized notes.txt
run "5 pipeline cpu,h100" $Q pipeline $M --targets cpu,h100 $C $S --out pl --quiet
run "5 verify the README deploy step" $Q verify pl/report/manifest.json pl/artefacts
python3 - <<'PY'
import json
m=json.load(open('pl/report/manifest.json'))
m['artefacts'][0]['files'].append({'path':'../../../../etc/passwd','bytes':0,'sha256':'0'*64})
json.dump(m,open('evil.json','w'))
m=json.load(open('pl/report/manifest.json'))
for a in m['artefacts']: a['files']=[]
json.dump(m,open('empty.json','w'))
PY
run "6 verify a traversal entry" $Q verify evil.json pl/artefacts
run "7 verify an empty file list" $Q verify empty.json pl/artefacts
echo 'import os' > pl/artefacts/evil.py; run "7 verify with a stray evil.py" $Q verify pl/report/manifest.json pl/artefacts; rm pl/artefacts/evil.py
run "7 verify a missing DIR" $Q verify pl/report/manifest.json nowhere
$Q quantize $M --format gguf:Q8_0 --out q8.gguf --quiet > /dev/null
run "8 eval --gate --no-tasks" $Q eval $M q8.gguf --text text.txt --ctx 128 --smoke-prompts prompts.jsonl --smoke-tokens 16 --no-tasks --gate --target cpu --quiet
printf 'version: 1\ntargets:\n  cpus:\n    mean_kld: 0.5\n' > policy.yaml
run "9 policy with an unknown target" $Q eval $M q8.gguf --text text.txt --gate --target cpu --policy policy.yaml --quiet
python3 - <<'PY'
import json
r=json.load(open('pl/report/report.json'))
c=r['candidates'][0]; m=c['metrics'][0]
c['metrics'].append(dict(m, value=1e9)); json.dump(r,open('dup.json','w'))
r=json.load(open('pl/report/report.json')); m=r['candidates'][0]['metrics'][0]; m['lower'],m['upper']=m['upper']+1,m['lower']-1; json.dump(r,open('inv.json','w'))
r=json.load(open('pl/report/report.json')); r['candidates'][0]['structural']=[]; json.dump(r,open('nostruct.json','w'))
r=json.load(open('pl/report/report.json')); r['candidates'][0]['format']='onnx'; json.dump(r,open('fmt.json','w'))
PY
for f in dup inv nostruct fmt; do run "10 gate a tampered report ($f)" $Q gate $f.json; done
run "11 GGUF gated for h100" $Q eval $M q8.gguf --text text.txt --ctx 128 --no-smoke --tasks $R/Calibration/tasks/hamlet-cloze.jsonl --gate --target h100 --quiet
run "16 --ignore for a100" $Q quantize $M --target a100 --ignore 'model.layers.0.*' --out g
run "16 --bits 8 for l40s" $Q quantize $M --target l40s --bits 8 --out g
run "16 --group-size 7 for GPTQ" $Q quantize $M --target a100 --group-size 7 --out g
run "16 --calibration for a100" $Q quantize $M --target a100 --calibration c.h5 --out g
run "16 --tasks with --no-tasks" $Q eval $M q8.gguf --text text.txt --tasks builtin --no-tasks
mkdir -p adir; run "17 --text DIR" $Q eval $M --text adir
run "17 missing policy file" $Q gate pl/report/report.json --policy missing.yaml
echo "left in the scratch folder (the probe's own files): $(ls -A | tr '\n' ' ')"
cd / && rm -rf "$T"
