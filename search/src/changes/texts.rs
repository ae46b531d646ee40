//! A change's texts, read only as far as the answer shows them.
//!
//! A span stores the numbers of its paragraphs ([`RunRefs`]), and one number is one text of
//! its document, so the paragraphs two sides of a change share at their start and end are
//! found from the numbers alone. The diff is those shared paragraphs as equal text around
//! the diff of the paragraphs between them, which is what diffing the whole texts gives; a
//! list that cuts its changes ([`Shown::Cut`]) reads the shared paragraphs only up to the
//! cut, and none of what lies past it. So a change to one paragraph of a 2 MiB section reads
//! and diffs one paragraph, not two sections.

use palimpsest_schema::{RunRefs, TextReader};

use super::cut_text;
use crate::compare::{DiffOp, DiffPart, common_suffix, timed_word_diff};
use crate::deadline::Deadline;
use crate::error::Result;

/// How much of a change's texts an answer shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shown {
    /// `before`, `after` and `diff` whole.
    Whole,
    /// `before` and `after` cut at this many bytes, `diff` at twice as many.
    Cut(usize),
    /// Only what the words inserted and deleted are counted from (a list grouped by
    /// version): the diff of the changed paragraphs, and the text of an added or removed
    /// section.
    Counts,
}

/// A change's texts as shown.
#[derive(Debug, Default)]
pub(crate) struct ChangeTexts {
    pub(crate) before: Option<String>,
    pub(crate) after: Option<String>,
    pub(crate) diff: Option<Vec<DiffPart>>,
    /// Whether something was cut.
    pub(crate) truncated: bool,
}

impl ChangeTexts {
    /// Bytes of text the change holds, as an answer's budget counts them.
    pub(crate) fn bytes(&self) -> usize {
        let sides = [&self.before, &self.after]
            .into_iter()
            .flatten()
            .map(String::len);
        let diff = self.diff.iter().flatten().map(|p| p.text.len());
        sides.chain(diff).sum()
    }
}

/// Reads one change's paragraphs, each once.
pub(crate) struct ChangeReader<'r, 's> {
    pub(crate) texts: &'r mut TextReader<'s>,
    pub(crate) doc_hash: u64,
    pub(crate) deadline: Deadline,
}

impl ChangeReader<'_, '_> {
    /// The texts of a change whose sides hold paragraphs `before` and `after`; `diffed` for a
    /// change that has a diff (modified, moved).
    pub(crate) fn texts(
        &mut self,
        before: Option<&RunRefs>,
        after: Option<&RunRefs>,
        diffed: bool,
        shown: Shown,
    ) -> Result<ChangeTexts> {
        let max = match shown {
            Shown::Cut(max) => max,
            Shown::Whole | Shown::Counts => usize::MAX,
        };
        let side_shown = !diffed || shown != Shown::Counts;
        let mut texts = ChangeTexts::default();
        if side_shown {
            for (side, refs) in [(&mut texts.before, before), (&mut texts.after, after)] {
                if let Some(refs) = refs {
                    let (text, cut) = self.read_up_to(&refs.0, max)?;
                    texts.truncated |= cut;
                    *side = Some(text);
                }
            }
        }
        if let (true, Some(before), Some(after)) = (diffed, before, after) {
            let (diff, cut) = self.diff(&before.0, &after.0, shown)?;
            texts.truncated |= cut;
            texts.diff = Some(diff);
        }
        Ok(texts)
    }

    /// The diff of two sides: their shared first and last paragraphs equal, the paragraphs
    /// between diffed; with [`Shown::Counts`] only the latter.
    fn diff(
        &mut self,
        before: &[u32],
        after: &[u32],
        shown: Shown,
    ) -> Result<(Vec<DiffPart>, bool)> {
        let ends = SharedParagraphs::of(before, after);
        let middle = (
            &before[ends.prefix..before.len() - ends.suffix],
            &after[ends.prefix..after.len() - ends.suffix],
        );
        let room = match shown {
            Shown::Cut(max) => max.saturating_mul(2),
            Shown::Whole | Shown::Counts => usize::MAX,
        };
        let mut parts = Vec::new();
        if shown != Shown::Counts {
            let (prefix, cut) = self.read_up_to(&before[..ends.prefix], room)?;
            append(&mut parts, equal(prefix));
            if cut {
                return Ok((parts, true));
            }
        }
        let changed = {
            let changed_before = self.read_up_to(middle.0, usize::MAX)?.0;
            let changed_after = self.read_up_to(middle.1, usize::MAX)?.0;
            timed_word_diff(&changed_before, &changed_after, self.deadline)?
        };
        append(&mut parts, changed);
        if shown != Shown::Counts {
            let used: usize = parts.iter().map(|p| p.text.len()).sum();
            if used <= room {
                let suffix = &before[before.len() - ends.suffix..];
                let (suffix, _) = self.read_up_to(suffix, room - used)?;
                append(&mut parts, equal(suffix));
            }
        }
        let cut = cut_parts(&mut parts, room);
        Ok((parts, cut))
    }

    /// Paragraphs `seqs` concatenated, read only until the text is longer than `max` bytes,
    /// then cut there; whether anything was left out.
    fn read_up_to(&mut self, seqs: &[u32], max: usize) -> Result<(String, bool)> {
        let mut text = String::new();
        let mut cut = false;
        for (i, &seq) in seqs.iter().enumerate() {
            if text.len() > max {
                cut = true;
                break;
            }
            if i % 64 == 63 {
                self.deadline.check()?;
            }
            text.push_str(self.texts.paragraph_text(self.doc_hash, seq)?);
        }
        cut |= cut_text(&mut text, max);
        text.shrink_to_fit();
        Ok((text, cut))
    }
}

/// How many paragraphs two sides share at their start and at their end (not overlapping).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SharedParagraphs {
    prefix: usize,
    suffix: usize,
}

impl SharedParagraphs {
    fn of(before: &[u32], after: &[u32]) -> SharedParagraphs {
        let prefix = before.iter().zip(after).take_while(|(a, b)| a == b).count();
        let suffix = common_suffix(before, after, prefix);
        SharedParagraphs { prefix, suffix }
    }
}

fn equal(text: String) -> Vec<DiffPart> {
    vec![DiffPart {
        op: DiffOp::Equal,
        text,
    }]
}

/// Appends `more` to `parts`, its first part merged into the last one when they have the same
/// op (as one diff of the whole texts would have it); empty parts are dropped.
fn append(parts: &mut Vec<DiffPart>, more: Vec<DiffPart>) {
    for part in more {
        if part.text.is_empty() {
            continue;
        }
        match parts.last_mut() {
            Some(last) if last.op == part.op => last.text.push_str(&part.text),
            _ => parts.push(part),
        }
    }
}

/// Cuts a diff to `room` bytes of text in all, at a character boundary; whether it was longer.
pub(crate) fn cut_parts(parts: &mut Vec<DiffPart>, room: usize) -> bool {
    let mut left = room;
    let Some(i) = parts.iter().position(|p| {
        let over = p.text.len() > left;
        left = left.saturating_sub(p.text.len());
        over
    }) else {
        return false;
    };
    let kept: usize = parts[..i].iter().map(|p| p.text.len()).sum();
    cut_text(&mut parts[i].text, room - kept);
    parts[i].text.shrink_to_fit();
    parts.truncate(i + 1);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_paragraphs_do_not_overlap() {
        assert_eq!(
            SharedParagraphs::of(&[1, 2, 3], &[1, 2, 3]),
            SharedParagraphs {
                prefix: 3,
                suffix: 0
            }
        );
        assert_eq!(
            SharedParagraphs::of(&[1, 2, 2, 3], &[1, 2, 3]),
            SharedParagraphs {
                prefix: 2,
                suffix: 1
            }
        );
        assert_eq!(
            SharedParagraphs::of(&[1, 5, 3], &[1, 6, 7, 3]),
            SharedParagraphs {
                prefix: 1,
                suffix: 1
            }
        );
    }

    #[test]
    fn a_cut_diff_keeps_its_first_bytes() {
        let mut parts = vec![
            DiffPart {
                op: DiffOp::Equal,
                text: "abc".into(),
            },
            DiffPart {
                op: DiffOp::Insert,
                text: "déf".into(),
            },
        ];
        assert!(!cut_parts(&mut parts.clone(), 7));
        assert!(cut_parts(&mut parts, 5));
        assert_eq!(parts[1].text, "d");
    }
}
