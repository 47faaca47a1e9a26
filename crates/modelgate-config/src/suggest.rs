//! "Did you mean …?" suggestions: a small case-insensitive Levenshtein
//! distance, used for typo'd config fields, spec ids and unknown model ids.

/// The single best suggestion for `word` among `candidates`, if any is close
/// enough to be a plausible typo.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    nearest(word, candidates, 1).into_iter().next()
}

/// Up to `max` candidates close to `word`, closest first (ties keep the
/// candidates' order). A candidate is close when its edit distance is small
/// for the word's length (at most 3), or when one contains the other
/// (`llama3` → `llama3.1:8b`, `gpt-4o-mini` → `gpt-4o`), ignoring case.
pub fn nearest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    max: usize,
) -> Vec<&'a str> {
    let word_lower = word.to_lowercase();
    let word_len = word_lower.chars().count();
    // Roughly one edit per three characters, and never every character:
    // `tl`→`ttl` yes, `a`→`b` no.
    let threshold = word_len.div_ceil(3).clamp(1, 3);
    let mut scored: Vec<(usize, usize, &str)> = candidates
        .into_iter()
        .enumerate()
        .filter_map(|(i, cand)| {
            let cand_lower = cand.to_lowercase();
            if cand_lower == word_lower && cand == word {
                return None; // the word itself is no suggestion
            }
            let cand_len = cand_lower.chars().count();
            let shorter = word_len.min(cand_len);
            let contains = shorter >= 3
                && (cand_lower.contains(&word_lower) || word_lower.contains(&cand_lower));
            // The distance is at least the difference in length: past the
            // threshold the quadratic table is not worth computing. This
            // keeps a hostile, very long word cheap (linear per candidate).
            // The difference in length is then the rank among the matches
            // by containment (a lower bound of the distance).
            let d = if word_len.abs_diff(cand_len) > threshold {
                word_len.abs_diff(cand_len)
            } else {
                levenshtein(&word_lower, &cand_lower)
            };
            ((d <= threshold && d < word_len) || contains).then_some((d, i, cand))
        })
        .collect();
    scored.sort_by_key(|&(d, i, _)| (d, i));
    scored.dedup_by_key(|&mut (_, _, c)| c);
    scored.into_iter().take(max).map(|(_, _, c)| c).collect()
}

/// Edit distance (insertions, deletions, substitutions) over chars.
fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    // One row of the classic table; `prev[j]` is the distance a[..i] → b[..j].
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = Vec::with_capacity(b.len() + 1);
        cur.push(i + 1);
        for (j, &cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIELDS: [&str; 5] = ["name", "spec", "base_url", "models", "model_map"];

    #[test]
    fn a_very_long_word_is_compared_by_length_first() {
        let long = "x".repeat(1 << 20);
        // Would be a 2^20 × 2^20 table without the length bound.
        assert!(nearest(&long, ["xxxxxxxx-model", "llama3"], 3).is_empty());
        assert_eq!(nearest("llama", ["llama3", "qwen"], 3), vec!["llama3"]);
    }

    #[test]
    fn distance() {
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(levenshtein("same", "same"), 0);
        assert_eq!(levenshtein("modles", "models"), 2);
    }

    #[test]
    fn suggests_typos() {
        assert_eq!(suggest("base_ur", FIELDS), Some("base_url"));
        assert_eq!(suggest("modles", FIELDS), Some("models"));
        assert_eq!(suggest("BASE_URL", FIELDS), Some("base_url"));
        assert_eq!(suggest("nmae", FIELDS), Some("name"));
    }

    #[test]
    fn no_suggestion_when_far() {
        assert_eq!(suggest("zzz", FIELDS), None);
        assert_eq!(suggest("x", ["y"]), None);
        assert_eq!(suggest("timeout_seconds", FIELDS), None);
    }

    #[test]
    fn nearest_orders_by_distance_and_finds_containment() {
        let models = ["gpt-4o", "gpt-4o-mini", "llama3.1:8b", "claude-sonnet-4"];
        assert_eq!(
            nearest("gpt-4o-mni", models, 3),
            vec!["gpt-4o-mini", "gpt-4o"]
        );
        assert_eq!(nearest("llama3", models, 3), vec!["llama3.1:8b"]);
        assert_eq!(nearest("gpt-4o-mini", models, 1), vec!["gpt-4o"]);
        assert!(nearest("mistral", models, 3).is_empty());
        assert!(nearest("gpt", models, 0).is_empty());
    }
}
