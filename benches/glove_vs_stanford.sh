#!/usr/bin/env bash
# wembed GloVe beside the Stanford tool on mixed-en (BENCHMARKS.md, issue 16). Needs /tmp/q16/corpus.txt
# (benches/quality_per_cpu.py writes it) and the anchors built by ../shared/anchors/build.sh /tmp/anchors.
# Run it in an empty folder; the Stanford text output gets its header fixed (it appends <unk>).
set -e
C=/tmp/q16/corpus.txt
W=/work/main/target/release/wembed
E=/work/shared/eval
ev() { $W eval "$1" --analogy $E/questions-words.txt --similarity $E/wordsim353.tsv $E/men.tsv --json; }
/usr/bin/time -f "%U %S %e" -o wembed.time $W glove $C -o model --dim 100 --window 10 --x-max 10 --iter 15 --min-count 5 --threads 2 -q --checkpoint-secs 0 --force
ev model/vectors.bin > wembed-sum.json
$W export model -f word2vec-bin --which input -o w.bin
ev w.bin > wembed-w.json
A=/tmp/anchors
/usr/bin/time -f "%U %S %e" -o stanford.time sh -c "$A/vocab_count -min-count 5 -verbose 0 < $C > vocab.txt && $A/cooccur -memory 4.0 -vocab-file vocab.txt -window-size 10 -verbose 0 < $C > cooc.bin && $A/shuffle -memory 4.0 -verbose 0 < cooc.bin > cooc.shuf.bin && $A/glove -input-file cooc.shuf.bin -vocab-file vocab.txt -save-file vectors -threads 2 -x-max 10 -iter 15 -vector-size 100 -binary 0 -write-header 1 -verbose 0"
(echo "$(($(wc -l < vectors.txt) - 1)) 100"; tail -n +2 vectors.txt) > vectors.fixed.txt
ev vectors.fixed.txt > stanford.json
echo done > done
