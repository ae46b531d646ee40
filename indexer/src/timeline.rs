//! The section timeline of one document: which spans each version is made of.
//!
//! Versions are appended in recorded order. Each section of a new version continues an open
//! span of the previous version with the same heading path and the same text, or opens a new
//! span; open spans that no section continued are closed at the new version's instant.
//! Matching is a multiset match, so two identical sections in one version are two spans.

use std::collections::HashMap;
use std::sync::Arc;

use palimpsest_schema::{
    DocKey, PairedStep, PolicyVersion, Section, SpanId, SpanRecord, StepCounts, StepSpan,
    Timestamp, VersionKind, VersionRecord, content_hash, path_hash, section_hash, substance_hash,
};
use rustc_hash::FxHashMap;

use crate::split::{MAX_SECTIONS, SectionRange, split_sections_capped};
use crate::text_pool::TextPool;

/// A span of the latest version, kept in memory while the timeline grows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenSpan {
    /// The span as it would be written now, with no end.
    pub record: SpanRecord,
    /// Whether the index already holds it (as open); closing it then replaces that document.
    pub persisted: bool,
    /// Its hashes, computed once: the step pairing and the span's document read them.
    pub step: StepSpan,
    /// The earlier span of the document that indexes the same path and text (the text came
    /// back), if any: this span's document then holds no words of its own.
    pub indexed_as: Option<SpanId>,
}

/// The texts a document has indexed: by [`section_hash`], the span whose document indexes
/// it (the first span of the document, in timeline order, with that path and text).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndexedTexts(HashMap<u64, SpanId>);

impl IndexedTexts {
    /// Records that `span` indexes its text, as read back from the index.
    pub fn insert(&mut self, section_hash: u64, span: SpanId) {
        self.0.insert(section_hash, span);
    }

    /// The span that indexes the text of [`section_hash`] `text`, if another than `span`
    /// does; otherwise `span` becomes the one.
    fn claim(&mut self, text: u64, span: SpanId) -> Option<SpanId> {
        let indexer = *self.0.entry(text).or_insert(span);
        (indexer != span).then_some(indexer)
    }
}

/// The hashes of a text that pairing compares ([`content_hash`], [`substance_hash`]), by
/// [`section_hash`]: a text that comes back (on contrib-versions, 70 % of the spans opened
/// reopen a text of their document) is hashed once a run.
#[derive(Debug, Clone, Default)]
struct TextHashes(FxHashMap<u64, ContentHashes>);

#[derive(Debug, Clone, Copy)]
struct ContentHashes {
    content: u64,
    substance: u64,
}

impl TextHashes {
    /// The step facts of `span`, whose text has [`section_hash`] `text`: [`StepSpan::of`]
    /// the span, its content hashed only the first time.
    fn step(&mut self, span: &SpanRecord, text: u64) -> StepSpan {
        let hashes = *self.0.entry(text).or_insert_with(|| ContentHashes {
            content: content_hash(&span.section),
            substance: substance_hash(&span.section),
        });
        StepSpan {
            path_hash: path_hash(&span.section.path),
            content_hash: hashes.content,
            valid_from: span.valid_from.as_unix(),
            span_id: span.id.0,
            substance_hash: hashes.substance,
        }
    }
}

/// What appending one version produced.
#[derive(Debug, Default)]
pub struct AppendOutcome {
    /// Spans closed by this version, final.
    pub closed: Vec<OpenSpan>,
    /// The record of the appended version.
    pub version: Option<VersionRecord>,
    /// How many spans the version opened.
    pub opened: usize,
    /// The sections the version's text has, when more than [`MAX_SECTIONS`]: those past the
    /// cap are kept in the last section.
    pub capped: Option<usize>,
}

/// Why a version could not be appended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppendError {
    /// The version was recorded before the latest version already in the timeline; the
    /// document's whole history must be replayed in order.
    OutOfOrder {
        /// Latest instant already in the timeline.
        latest: Timestamp,
    },
}

/// The state needed to append versions to one document's timeline.
#[derive(Debug, Clone)]
pub struct Timeline {
    key: DocKey,
    next_ordinal: u64,
    latest: Option<(Timestamp, String)>,
    latest_content_hash: Option<u64>,
    open: Vec<OpenSpan>,
    indexed: IndexedTexts,
    hashes: TextHashes,
}

impl Timeline {
    /// An empty timeline for a document never seen before.
    pub fn new(key: DocKey) -> Timeline {
        Timeline {
            key,
            next_ordinal: 0,
            latest: None,
            latest_content_hash: None,
            open: Vec::new(),
            indexed: IndexedTexts::default(),
            hashes: TextHashes::default(),
        }
    }

    /// A timeline resumed from the index: its latest version, that version's spans (in
    /// order: they claim the texts no closed span indexes), and the texts the document's
    /// closed spans index.
    pub fn resume(
        key: DocKey,
        latest: &VersionRecord,
        open: Vec<SpanRecord>,
        mut indexed: IndexedTexts,
    ) -> Timeline {
        let content: String = open.iter().map(|s| s.section.text.as_ref()).collect();
        let mut hashes = TextHashes::default();
        let open = open
            .into_iter()
            .map(|record| {
                let text = section_hash(&record.section);
                OpenSpan {
                    step: hashes.step(&record, text),
                    indexed_as: indexed.claim(text, record.id),
                    record,
                    persisted: true,
                }
            })
            .collect();
        Timeline {
            key,
            next_ordinal: latest.ordinal + 1,
            latest: Some((latest.recorded_at, latest.source_id.clone())),
            latest_content_hash: (latest.kind != VersionKind::Deleted)
                .then(|| xxhash_rust::xxh3::xxh3_64(content.as_bytes())),
            open,
            indexed,
            hashes,
        }
    }

    /// The texts the document has indexed so far.
    pub fn indexed_texts(&self) -> &IndexedTexts {
        &self.indexed
    }

    /// The document this timeline is about.
    pub fn key(&self) -> &DocKey {
        &self.key
    }

    /// Whether the document has any version.
    pub fn has_versions(&self) -> bool {
        self.latest.is_some()
    }

    /// Spans of the latest version, still in force.
    pub fn open_spans(&self) -> &[OpenSpan] {
        &self.open
    }

    /// Takes the open spans out, to be written when the run ends.
    pub fn take_open(&mut self) -> Vec<OpenSpan> {
        let taken = std::mem::take(&mut self.open);
        self.open = taken
            .iter()
            .map(|s| OpenSpan {
                record: s.record.clone(),
                persisted: true,
                step: s.step,
                indexed_as: s.indexed_as,
            })
            .collect();
        taken
    }

    /// Holds the texts of the open spans through `pool`, as spans opened in this run do.
    pub fn share_texts(&mut self, pool: &mut TextPool) {
        for span in &mut self.open {
            let text = std::mem::replace(&mut span.record.section.text, Arc::from(""));
            span.record.section.text = pool.adopt(text);
        }
    }

    /// Appends the next version, sharing the texts of the spans it opens through `pool`.
    /// `version.key` must be this timeline's key.
    pub fn append(
        &mut self,
        version: &PolicyVersion,
        pool: &mut TextPool,
    ) -> Result<AppendOutcome, AppendError> {
        debug_assert_eq!(version.key, self.key);
        if let Some((latest, _)) = &self.latest
            && version.recorded_at < *latest
        {
            return Err(AppendError::OutOfOrder { latest: *latest });
        }
        let ordinal = self.next_ordinal;
        let previous_id = self.latest.as_ref().map(|(_, id)| id.clone());
        let mut outcome = AppendOutcome::default();
        let mut steps = StepCounts::default();

        let content_hash = xxhash_rust::xxh3::xxh3_64(version.content.as_bytes());
        let deleted = version.kind == VersionKind::Deleted;
        let unchanged = !deleted && self.latest_content_hash == Some(content_hash);
        if !unchanged {
            let sections = if deleted {
                Vec::new()
            } else {
                let split = split_sections_capped(&version.content, MAX_SECTIONS);
                if split.found > split.sections.len() {
                    outcome.capped = Some(split.found);
                }
                split.sections
            };
            let mut unclaimed: FxHashMap<(&[String], &str), Vec<usize>> = FxHashMap::default();
            for (i, span) in self.open.iter().enumerate().rev() {
                unclaimed
                    .entry((&span.record.section.path, &*span.record.section.text))
                    .or_default()
                    .push(i);
            }
            let mut next: Vec<Option<usize>> = Vec::with_capacity(sections.len());
            for section in &sections {
                let text = &version.content[section.range.clone()];
                let claimed = unclaimed
                    .get_mut(&(section.path.as_slice(), text))
                    .and_then(Vec::pop);
                next.push(claimed);
            }
            let mut still_open = vec![false; self.open.len()];
            for i in next.iter().flatten() {
                still_open[*i] = true;
            }
            let mut old: Vec<Option<OpenSpan>> = std::mem::take(&mut self.open)
                .into_iter()
                .map(Some)
                .collect();
            for (i, keep) in still_open.iter().enumerate() {
                if !keep {
                    let mut span = old[i].take().expect("each span closes once");
                    span.record.valid_to = Some(version.recorded_at);
                    span.record.last_version = previous_id.clone();
                    span.record.closed = Some(ordinal);
                    outcome.closed.push(span);
                }
            }
            let titled = has_title_heading(&sections);
            for (position, (section, claimed)) in sections.into_iter().zip(next).enumerate() {
                let span = match claimed {
                    Some(i) => old[i].take().expect("each span is claimed once"),
                    None => {
                        outcome.opened += 1;
                        let title_heading = titled && !section.path.is_empty();
                        let record = SpanRecord {
                            id: self.span_id(ordinal, position),
                            section: Section {
                                text: pool.share(&version.content[section.range]),
                                path: section.path,
                            },
                            valid_from: version.recorded_at,
                            valid_to: None,
                            first_version: version.source_id.clone(),
                            last_version: None,
                            opened: ordinal,
                            closed: None,
                            opened_link: None,
                            closed_link: None,
                            title_heading,
                        };
                        let text = section_hash(&record.section);
                        OpenSpan {
                            step: self.hashes.step(&record, text),
                            indexed_as: self.indexed.claim(text, record.id),
                            record,
                            persisted: false,
                        }
                    }
                };
                self.open.push(span);
            }
            steps = link_step(&mut outcome.closed, &mut self.open, ordinal);
        }
        outcome.version = Some(VersionRecord {
            recorded_at: version.recorded_at,
            ordinal,
            source_id: version.source_id.clone(),
            kind: version.kind,
            spans: self.open.iter().map(|s| s.record.id).collect(),
            steps,
        });
        self.next_ordinal += 1;
        self.latest = Some((version.recorded_at, version.source_id.clone()));
        self.latest_content_hash = (!deleted).then_some(content_hash);
        Ok(outcome)
    }

    fn span_id(&self, ordinal: u64, position: usize) -> SpanId {
        let mut bytes = self.key.term_text().into_bytes();
        bytes.push(0x1f);
        bytes.extend_from_slice(&ordinal.to_le_bytes());
        bytes.extend_from_slice(&(position as u64).to_le_bytes());
        SpanId(xxhash_rust::xxh3::xxh3_64(&bytes))
    }
}

/// Pairs the step of version `ordinal` (the spans it closed against the spans now open that
/// it opened), records on each of those spans the change it takes part in, and counts the
/// changes.
fn link_step(closed: &mut [OpenSpan], open: &mut [OpenSpan], opened_ordinal: u64) -> StepCounts {
    let before: Vec<StepSpan> = closed.iter().map(|s| s.step).collect();
    let mut opened: Vec<&mut OpenSpan> = open
        .iter_mut()
        .filter(|s| s.record.opened == opened_ordinal)
        .collect();
    let after: Vec<StepSpan> = opened.iter().map(|s| s.step).collect();
    let step = PairedStep::of(&before, &after);
    for (span, link) in closed.iter_mut().zip(step.closed) {
        span.record.closed_link = link;
    }
    for (span, link) in opened.iter_mut().zip(step.opened) {
        span.record.opened_link = link;
    }
    step.counts
}

/// Whether one top-level heading stands over the whole version: the first heading is alone at
/// its level and every later section is under it (text before it aside). Such a heading is
/// the document's title, not one of its sections.
fn has_title_heading(sections: &[SectionRange]) -> bool {
    let mut headed = sections.iter().filter(|s| !s.path.is_empty());
    let Some(title) = headed.next() else {
        return false;
    };
    let mut under = 0;
    for section in headed {
        if section.path.len() < 2 || section.path[0] != title.path[0] {
            return false;
        }
        under += 1;
    }
    title.path.len() == 1 && under > 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key() -> DocKey {
        DocKey::new("c", "S", "Terms").unwrap()
    }

    fn version(at: i64, id: &str, content: &str) -> PolicyVersion {
        PolicyVersion {
            key: key(),
            recorded_at: Timestamp::from_unix(at).unwrap(),
            source_id: id.into(),
            kind: VersionKind::Change,
            content: content.into(),
        }
    }

    /// Replays versions and returns every span (closed and open) and every version record.
    fn replay(versions: &[PolicyVersion]) -> (Vec<SpanRecord>, Vec<VersionRecord>) {
        let mut timeline = Timeline::new(key());
        let mut spans = Vec::new();
        let mut records = Vec::new();
        for v in versions {
            let out = timeline.append(v, &mut TextPool::default()).unwrap();
            spans.extend(out.closed.into_iter().map(|s| s.record));
            records.extend(out.version);
        }
        spans.extend(timeline.take_open().into_iter().map(|s| s.record));
        (spans, records)
    }

    fn rebuild(spans: &[SpanRecord], record: &VersionRecord) -> String {
        let by_id: HashMap<SpanId, &SpanRecord> = spans.iter().map(|s| (s.id, s)).collect();
        record
            .spans
            .iter()
            .map(|id| by_id[id].section.text.as_ref())
            .collect()
    }

    #[test]
    fn unchanged_sections_share_one_span() {
        let versions = [
            version(10, "v1", "# A\n\na\n\n# B\n\nb\n"),
            version(20, "v2", "# A\n\na\n\n# B\n\nb changed\n"),
            version(30, "v3", "# A\n\na\n\n# B\n\nb changed\n"),
        ];
        let (spans, records) = replay(&versions);
        assert_eq!(spans.len(), 3, "{spans:#?}");
        let a = spans.iter().find(|s| s.section.path == ["A"]).unwrap();
        assert_eq!(a.valid_from.as_unix(), 10);
        assert_eq!(a.valid_to, None);
        let old_b = spans
            .iter()
            .find(|s| &*s.section.text == "# B\n\nb\n")
            .unwrap();
        assert_eq!(old_b.valid_to.unwrap().as_unix(), 20);
        assert_eq!(old_b.last_version.as_deref(), Some("v1"));
        assert_eq!(
            records[1].spans, records[2].spans,
            "a re-record opens no span"
        );
        for (v, r) in versions.iter().zip(&records) {
            assert_eq!(rebuild(&spans, r), v.content);
        }
    }

    #[test]
    fn identical_sections_in_one_version_are_distinct_spans() {
        let versions = [
            version(1, "v1", "# A\n\nx\n\n# A\n\nx\n"),
            version(2, "v2", "# A\n\nx\n"),
        ];
        let (spans, records) = replay(&versions);
        assert_eq!(spans.len(), 2);
        assert_eq!(records[1].spans.len(), 1);
        assert_eq!(spans.iter().filter(|s| s.valid_to.is_some()).count(), 1);
    }

    #[test]
    fn deletion_closes_every_span() {
        let mut deleted = version(2, "v2", "");
        deleted.kind = VersionKind::Deleted;
        let versions = [
            version(1, "v1", "# A\n\nx\n"),
            deleted,
            version(3, "v3", "# A\n\nx\n"),
        ];
        let (spans, records) = replay(&versions);
        assert_eq!(spans.len(), 2);
        assert!(records[1].spans.is_empty());
        assert_eq!(rebuild(&spans, &records[2]), "# A\n\nx\n");
    }

    #[test]
    fn a_text_that_comes_back_is_indexed_by_its_first_span() {
        let versions = [
            version(1, "v1", "# A\n\nx\n\n# B\n\nb\n"),
            version(2, "v2", "# A\n\ny\n\n# B\n\nb\n"),
            version(3, "v3", "# A\n\nx\n\n# B\n\nb\n"),
            version(4, "v4", "# C\n\nx\n"),
        ];
        let mut timeline = Timeline::new(key());
        let mut opened = Vec::new();
        for v in &versions {
            let out = timeline.append(v, &mut TextPool::default()).unwrap();
            opened.extend(out.closed.into_iter().map(|s| (s.record.id, s.indexed_as)));
        }
        opened.extend(
            timeline
                .take_open()
                .into_iter()
                .map(|s| (s.record.id, s.indexed_as)),
        );
        let first_x = opened[0].0;
        // Closed in order: A "x" (v2), A "y" (v3), A "x" again and B (v4); C stays open.
        assert_eq!(opened[0].1, None);
        assert_eq!(opened[1].1, None);
        assert_eq!(opened[2], (opened[2].0, Some(first_x)));
        assert_ne!(opened[2].0, first_x);
        // The same words under another heading are another text.
        assert_eq!(opened.last().unwrap().1, None);

        // Resumed after v2, the returning text finds the span that indexed it.
        let mut first = Timeline::new(key());
        let mut record = None;
        for v in &versions[..2] {
            record = first.append(v, &mut TextPool::default()).unwrap().version;
        }
        let record = record.unwrap();
        let open: Vec<SpanRecord> = first.take_open().into_iter().map(|s| s.record).collect();
        let mut resumed = Timeline::resume(key(), &record, open, first.indexed_texts().clone());
        let out = resumed
            .append(&versions[2], &mut TextPool::default())
            .unwrap();
        let back = resumed
            .open_spans()
            .iter()
            .find(|s| s.record.section.text.contains('x'))
            .unwrap();
        assert_eq!(back.indexed_as, Some(first_x));
        assert_eq!(out.opened, 1);
    }

    #[test]
    fn earlier_version_is_refused() {
        let mut timeline = Timeline::new(key());
        timeline
            .append(&version(10, "v1", "a"), &mut TextPool::default())
            .unwrap();
        assert!(matches!(
            timeline.append(&version(5, "v0", "b"), &mut TextPool::default()),
            Err(AppendError::OutOfOrder { .. })
        ));
    }

    #[test]
    fn resuming_gives_the_same_spans_as_one_run() {
        let versions = [
            version(1, "v1", "# A\n\na\n\n# B\n\nb\n"),
            version(2, "v2", "# A\n\na2\n\n# B\n\nb\n"),
            version(3, "v3", "# B\n\nb\n\n# C\n\nc\n"),
        ];
        let (all_spans, all_records) = replay(&versions);

        let mut first = Timeline::new(key());
        let mut spans = Vec::new();
        let mut records = Vec::new();
        for v in &versions[..2] {
            let out = first.append(v, &mut TextPool::default()).unwrap();
            spans.extend(out.closed.into_iter().map(|s| s.record));
            records.extend(out.version);
        }
        let open: Vec<SpanRecord> = first.take_open().into_iter().map(|s| s.record).collect();
        spans.extend(open.iter().cloned());
        let indexed = first.indexed_texts().clone();
        let mut resumed = Timeline::resume(key(), records.last().unwrap(), open, indexed);
        let out = resumed
            .append(&versions[2], &mut TextPool::default())
            .unwrap();
        for closed in out.closed {
            assert!(closed.persisted);
            spans.retain(|s| s.id != closed.record.id);
            spans.push(closed.record);
        }
        records.extend(out.version);
        spans.extend(
            resumed
                .take_open()
                .into_iter()
                .filter(|s| !s.persisted)
                .map(|s| s.record),
        );
        spans.sort_by_key(|s| s.id);
        let mut expected = all_spans.clone();
        expected.sort_by_key(|s| s.id);
        assert_eq!(spans, expected);
        assert_eq!(records, all_records);
    }

    proptest! {
        #[test]
        fn every_version_rebuilds_from_its_spans(
            docs in proptest::collection::vec(
                proptest::collection::vec(prop_oneof!["# [AB]", "[ab]{1,3}", "", "\\*\\*T\\*\\*"], 0..8),
                1..8)
        ) {
            let versions: Vec<PolicyVersion> = docs
                .iter()
                .enumerate()
                .map(|(i, lines)| version(i as i64, &format!("v{i}"), &lines.join("\n")))
                .collect();
            let (spans, records) = replay(&versions);
            for (v, r) in versions.iter().zip(&records) {
                prop_assert_eq!(rebuild(&spans, r), v.content.clone());
            }
            for s in &spans {
                if let Some(to) = s.valid_to {
                    prop_assert!(s.valid_from <= to);
                }
            }
        }
    }
}
