//! The byte-pair prefilter: a 2048-bit set of the byte pairs of a text, which rules out most
//! searches of a file without scanning it.

/// A set of the byte pairs in a text, hashed into 2048 bits: if a pair of a needle is missing,
/// the text cannot contain the needle. Most files of a large repository mention none of what
/// the detectors look for, and this answers for them in a few instructions a search.
#[derive(Debug, Clone)]
pub(super) struct Pairs([u64; 32]);

impl Pairs {
    pub(super) fn of(text: &str) -> Self {
        let mut bits = [0_u64; 32];
        for pair in text.as_bytes().windows(2) {
            let slot = Self::slot(pair[0], pair[1]);
            bits[slot / 64] |= 1 << (slot % 64);
        }
        Self(bits)
    }

    fn slot(first: u8, second: u8) -> usize {
        let pair = (u32::from(first) << 8) | u32::from(second);
        (pair.wrapping_mul(0x9E37_79B1) >> 21) as usize
    }

    pub(super) fn may_contain(&self, needle: &str) -> bool {
        needle.as_bytes().windows(2).all(|pair| {
            let slot = Self::slot(pair[0], pair[1]);
            self.0[slot / 64] & (1 << (slot % 64)) != 0
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_never_rule_out_what_is_there() {
        let text = "import mlflow\nmlflow.log_metric('f1', f1)\n";
        let pairs = Pairs::of(text);
        for start in 0..text.len() {
            for end in start..=text.len() {
                assert!(
                    pairs.may_contain(&text[start..end]),
                    "{:?}",
                    &text[start..end]
                );
            }
        }
        assert!(!pairs.may_contain("prometheus_client"));
        assert!(!pairs.may_contain("kubectl"));
    }
}
