//! TEMPORARY (not committed): the server's nlu_eval intents through the core pipeline.
mod common;
use common::{pipeline, SEEDS};
#[test]
fn tmp_server_nlu_eval_intents() {
    let now = jiff::civil::datetime(2027, 3, 10, 10, 0, 0, 0);
    let data = include_str!("../../server/tests/data/nlu_eval.jsonl");
    let ps: Vec<_> = SEEDS.iter().map(|(v, k, s)| (*v, pipeline(*k, &serde_json::from_str(s).unwrap()))).collect();
    let (mut n, mut ok) = (0, 0);
    for l in data.lines().filter(|l| !l.trim().is_empty()) {
        let c: serde_json::Value = serde_json::from_str(l).unwrap();
        let v = c["vertical"].as_str().unwrap();
        let p = &ps.iter().find(|(x, _)| *x == v).unwrap().1;
        let r = p.parse(c["text"].as_str().unwrap(), now);
        let mut allowed = vec![c["intent"].as_str().unwrap().to_string()];
        allowed.extend(c["intent_alt"].as_array().into_iter().flatten().filter_map(|x| x.as_str().map(str::to_string)));
        n += 1;
        if allowed.iter().any(|a| a == r.intent.as_str()) {
            ok += 1
        } else {
            eprintln!("TMPEVAL miss {:?} want {allowed:?} got {} {}", c["text"], r.intent.as_str(), r.layer.as_str());
        }
    }
    eprintln!("TMPEVAL intents {ok}/{n}");
}
