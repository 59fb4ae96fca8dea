//! Evaluation on hand-made vectors whose answers are known.

use crate::common::*;
use wembed::eval::{analogy, pearson, ranks, similarity, Case, Method};
use wembed::vectors::{Embeddings, Matrix};

fn emb(rows: &[(&str, [f32; 5])]) -> Embeddings {
    Embeddings {
        words: rows.iter().map(|(w, _)| w.to_string()).collect(),
        counts: None,
        matrix: Matrix::Owned {
            data: rows.iter().flat_map(|(_, v)| *v).collect(),
            cols: 5,
        },
    }
}

fn world() -> Embeddings {
    // Country i on axis i, its capital one step along the last axis: capital − country is the same
    // vector for every pair.
    emb(&[
        ("france", [1.0, 0.0, 0.0, 0.0, 0.0]),
        ("Paris", [1.0, 0.0, 0.0, 0.0, 1.0]),
        ("paris", [-1.0, -1.0, -1.0, -1.0, -1.0]), // rarer lowercase twin: must not stand for "paris"
        ("japan", [0.0, 1.0, 0.0, 0.0, 0.0]),
        ("tokyo", [0.0, 1.0, 0.0, 0.0, 1.0]),
        ("italy", [0.3, 0.0, 1.0, 0.0, 0.0]),
        ("rome", [0.3, 0.0, 1.0, 0.0, 1.0]),
        ("noise", [0.0, 0.0, 0.0, 1.0, 0.0]),
    ])
}

#[test]
fn analogies_sections_case_and_coverage() {
    let d = tmp();
    let q = p(&d, "q.txt");
    write(&q, b": capitals\nfrance paris japan tokyo\nJapan Tokyo italy rome\nfrance paris italy berlin\n: gram-x\nitaly rome france paris\n");
    let e = world();
    for method in [Method::CosAdd, Method::CosMul] {
        let r = analogy(&e, &q, None, method, Case::Fold).unwrap();
        assert_eq!(r.sections.len(), 2);
        let caps = &r.sections[0].1;
        assert_eq!(
            (caps.correct, caps.answered, caps.questions),
            (2, 2, 3),
            "{method:?}"
        );
        assert_eq!((r.syntactic.correct, r.syntactic.answered), (1, 1));
        assert_eq!(
            (r.total.correct, r.total.answered, r.total.questions),
            (3, 3, 4)
        );
        assert!((r.total.coverage() - 0.75).abs() < 1e-12);
    }
    // Restricted to the 5 most frequent rows, rome and italy fall out: fewer questions answered.
    let r = analogy(&e, &q, Some(5), Method::CosAdd, Case::Fold).unwrap();
    assert_eq!(r.total.answered, 1);
}

#[test]
fn a_question_word_is_never_the_answer() {
    let d = tmp();
    let q = p(&d, "q.txt");
    // b − a + c lands on c itself; the answer must be the best word other than a, b and c.
    write(&q, b": s\nfrance france japan tokyo\n");
    let r = analogy(&world(), &q, None, Method::CosAdd, Case::Fold).unwrap();
    assert_eq!(r.total.correct, 1);
}

#[test]
fn spearman_with_ties_and_unknown_pairs() {
    assert_eq!(ranks(&[10.0, 20.0, 20.0, 30.0]), vec![1.0, 2.5, 2.5, 4.0]);
    assert!((pearson(&[1.0, 2.0, 3.0], &[2.0, 4.0, 6.0]) - 1.0).abs() < 1e-12);
    let d = tmp();
    let f = p(&d, "pairs.tsv");
    write(
        &f,
        b"# comment\nfrance\tparis\t9\nfrance japan 2\nFrance italy\t5\nfrance zzz\t1\n",
    );
    let r = similarity(&world(), &f, Case::Fold).unwrap();
    assert_eq!((r.pairs, r.used, r.oov), (4, 3, 1));
    // cos(france, Paris) > cos(france, italy) > cos(france, japan): same order as the scores.
    assert!((r.spearman - 1.0).abs() < 1e-12, "{}", r.spearman);
    write(&f, b"france paris x\n");
    let e = similarity(&world(), &f, Case::Fold)
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("pairs.tsv:1: score \"x\" is not a number"),
        "{e}"
    );
}

#[test]
fn neighbors_and_analogy_commands() {
    let d = tmp();
    let v = p(&d, "v.txt");
    let e = world();
    wembed::vectors::export(
        &e,
        wembed::vectors::Format::Word2VecText,
        wembed::vectors::Dtype::F32,
        &v,
    )
    .unwrap();
    let out = wembed(&[
        "analogy",
        v.to_str().unwrap(),
        "france",
        "Paris",
        "japan",
        "-k",
        "2",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j[0]["neighbors"][0]["word"], "tokyo");
    let out = wembed(&["neighbors", v.to_str().unwrap(), "tokyo", "-k", "1"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("japan"));
    let out = wembed(&["neighbors", v.to_str().unwrap(), "atlantis"]);
    assert_one_line_error(&out, "\"atlantis\" is not in the vocabulary");
}

/// Queries match exactly, as gensim's most_similar; --ignore-case folds (Unicode too).
#[test]
fn queries_match_case_exactly_unless_asked() {
    let d = tmp();
    let v = p(&d, "v.txt");
    let mut rows = world();
    rows.words[7] = "Москва".into();
    wembed::vectors::export(
        &rows,
        wembed::vectors::Format::Word2VecText,
        wembed::vectors::Dtype::F32,
        &v,
    )
    .unwrap();
    let top = |args: &[&str]| -> (String, f64) {
        let out = wembed(args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let n = &j[0]["neighbors"][0];
        (
            n["word"].as_str().unwrap().to_string(),
            n["cosine"].as_f64().unwrap(),
        )
    };
    let first = |args: &[&str]| top(args).0;
    let v = v.to_str().unwrap();
    // "paris" is its own (rarer, opposite) row, not "Paris".
    assert_eq!(
        first(&["neighbors", v, "Paris", "-k", "1", "--json"]),
        "france"
    );
    assert!(top(&["neighbors", v, "paris", "-k", "1", "--json"]).1 < 0.0);
    assert_one_line_error(&wembed(&["neighbors", v, "PARIS"]), "not in the vocabulary");
    assert_eq!(
        first(&[
            "neighbors",
            v,
            "PARIS",
            "-k",
            "1",
            "--json",
            "--ignore-case"
        ]),
        "france"
    );
    assert_one_line_error(
        &wembed(&["neighbors", v, "москва"]),
        "not in the vocabulary",
    );
    first(&["neighbors", v, "москва", "--json", "--ignore-case"]);
    let analogy = [
        "analogy", v, "FRANCE", "Paris", "JAPAN", "--json", "-k", "1",
    ];
    assert_one_line_error(&wembed(&analogy), "\"FRANCE\" is not in the vocabulary");
    let out = wembed(&[&analogy[..], &["--ignore-case"]].concat());
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j[0]["neighbors"][0]["word"], "tokyo");
    // eval folds by default (gensim's evaluate_* do); --case-sensitive turns it off.
    let q = p(&d, "q.txt");
    write(&q, b": capitals\nFRANCE PARIS JAPAN TOKYO\n");
    let acc = |extra: &[&str]| {
        let mut args = vec!["eval", v, "--analogy", q.to_str().unwrap(), "--json"];
        args.extend(extra);
        let out = wembed(&args);
        let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        j["analogy"]["total"]["answered"].as_u64().unwrap()
    };
    assert_eq!(acc(&[]), 1);
    assert_eq!(acc(&["--case-sensitive"]), 0);
}
