//! British and American spellings folded to one form, so that `personalised` and
//! `personalized`, `licence` and `license`, `cancelled` and `canceled` are one word to the
//! stemmed fields. The folding runs on lowercased ASCII tokens before the stemmer, at index
//! and at query time alike, so a word only needs to fold the same way on both sides: the
//! form it folds to need not be a real spelling, only one no other word folds to.

use std::cell::RefCell;
use std::hash::BuildHasher;

use rustc_hash::FxHashMap;

use tantivy::tokenizer::{Token, TokenFilter, TokenStream, Tokenizer};

/// Words whose variants follow no suffix rule, each with its folded form.
const IRREGULAR: &[(&str, &str)] = &[
    ("licence", "license"),
    ("licences", "licenses"),
    ("licenced", "licensed"),
    ("defence", "defense"),
    ("defences", "defenses"),
    ("offence", "offense"),
    ("offences", "offenses"),
    ("pretence", "pretense"),
    ("programme", "program"),
    ("programmes", "programs"),
    ("judgement", "judgment"),
    ("judgements", "judgments"),
    ("acknowledgement", "acknowledgment"),
    ("acknowledgements", "acknowledgments"),
    ("ageing", "aging"),
    ("enquiry", "inquiry"),
    ("enquiries", "inquiries"),
    ("enquire", "inquire"),
    ("enrol", "enroll"),
    ("enrols", "enrolls"),
    ("enrolment", "enrollment"),
    ("fulfil", "fulfill"),
    ("fulfils", "fulfills"),
    ("fulfilment", "fulfillment"),
    ("instalment", "installment"),
    ("instalments", "installments"),
    ("skilful", "skillful"),
    ("wilful", "willful"),
    ("grey", "gray"),
    ("sceptical", "skeptical"),
    ("jewellery", "jewelry"),
    ("cheque", "check"),
    ("cheques", "checks"),
    ("tyre", "tire"),
    ("tyres", "tires"),
    ("mould", "mold"),
    ("plough", "plow"),
];

/// Endings that follow `-our` in British spellings (`colour`, `colours`, `favourite`…).
const OUR_ENDINGS: &[&str] = &[
    "", "s", "ed", "ing", "able", "ably", "al", "ally", "ite", "ites", "er", "ers", "ful", "less",
];

/// Endings of `-ise` / `-yse` words and their `-ize` / `-yze` forms.
const ISE_ENDINGS: &[(&str, &str)] = &[
    ("isation", "ization"),
    ("isations", "izations"),
    ("ise", "ize"),
    ("ises", "izes"),
    ("ised", "ized"),
    ("ising", "izing"),
    ("iser", "izer"),
    ("isers", "izers"),
    ("yse", "yze"),
    ("yses", "yzes"),
    ("ysed", "yzed"),
    ("ysing", "yzing"),
];

/// The folded form of a lowercased word, or `None` when it has no variant to fold.
pub fn fold_spelling(word: &str) -> Option<String> {
    if !word.is_ascii() || word.len() < 4 {
        return None;
    }
    if let Some(&(_, folded)) = IRREGULAR.iter().find(|(w, _)| *w == word) {
        return Some(folded.to_owned());
    }
    fold_ise(word)
        .or_else(|| fold_our(word))
        .or_else(|| fold_tre(word))
        .or_else(|| fold_ogue(word))
        .or_else(|| fold_double_l(word))
}

/// `organisation` → `organization`, `analyse` → `analyze`: at least three letters before.
fn fold_ise(word: &str) -> Option<String> {
    ISE_ENDINGS.iter().find_map(|(british, american)| {
        let stem = word.strip_suffix(british)?;
        (stem.len() >= 3).then(|| format!("{stem}{american}"))
    })
}

/// `behaviour` → `behavior`, `favourite` → `favorite`; not `hour`, `four`, `your`, `tour`,
/// `contour`: a consonant other than `t`, or an `i`, stands before `our`, at least two letters
/// before it.
fn fold_our(word: &str) -> Option<String> {
    OUR_ENDINGS.iter().find_map(|ending| {
        let stem = word.strip_suffix(ending)?.strip_suffix("our")?;
        let before = *stem.as_bytes().last()?;
        // A consonant, or the `i` of `behaviour` and `saviour`.
        let fits = !b"aeouyt".contains(&before);
        (stem.len() >= 2 && fits).then(|| format!("{stem}or{ending}"))
    })
}

/// `centre` → `center`, `fibres` → `fibers`: `-tre` and `-bre` (no common English word
/// keeps them in American spelling).
fn fold_tre(word: &str) -> Option<String> {
    for ending in ["", "s", "d"] {
        let Some(stem) = word.strip_suffix(ending) else {
            continue;
        };
        for (british, american) in [("tre", "ter"), ("bre", "ber")] {
            if let Some(root) = stem.strip_suffix(british)
                && root.len() >= 2
            {
                return Some(format!("{root}{american}{ending}"));
            }
        }
    }
    None
}

/// `catalogue` → `catalog`, `dialogues` → `dialogs`.
fn fold_ogue(word: &str) -> Option<String> {
    [("logue", "log"), ("logues", "logs")]
        .iter()
        .find_map(|(british, american)| {
            let stem = word.strip_suffix(british)?;
            (stem.len() >= 2).then(|| format!("{stem}{american}"))
        })
}

/// `cancelled` → `canceled`, `travelling` → `traveling`, `labellers` → `labelers`: a doubled
/// `l` after `e` or `a` that ends an unstressed syllable, i.e. with a vowel earlier in the
/// word and a consonant right before that `e` or `a` (not `called`, `spelled`, `fuelled`).
fn fold_double_l(word: &str) -> Option<String> {
    ["lled", "lling", "ller", "llers"]
        .iter()
        .find_map(|ending| {
            let stem = word.strip_suffix(ending)?;
            let bytes = stem.as_bytes();
            let [.., before, vowel] = bytes else {
                return None;
            };
            let is_vowel = |b: &u8| b"aeiouy".contains(b);
            let earlier_vowel = bytes[..bytes.len() - 2].iter().any(is_vowel);
            (matches!(vowel, b'e' | b'a') && !is_vowel(before) && earlier_vowel)
                .then(|| format!("{stem}{}", &ending[1..]))
        })
}

/// The stem of a lowercased word: its spelling folded ([`fold_spelling`]), then reduced by
/// the English Snowball stemmer.
pub fn english_stem(word: &str) -> String {
    let folded = fold_spelling(word);
    let word = folded.as_deref().unwrap_or(word);
    frostem::Stemmer::new(frostem::Algorithm::English)
        .stem(word)
        .into_owned()
}

/// Most distinct words a thread remembers the stems of before it forgets them all: the words
/// of an archive repeat, and stemming one costs more than looking it up.
const STEM_CACHE_WORDS: usize = 100_000;

/// A word short enough to be a cache key held inline (no pointer to follow on a lookup), its
/// length in the last byte.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct CachedWord([u8; 24]);

impl CachedWord {
    fn new(word: &str) -> Option<CachedWord> {
        let mut bytes = [0; 24];
        bytes
            .get_mut(..word.len())?
            .copy_from_slice(word.as_bytes());
        bytes[23] = u8::try_from(word.len()).ok().filter(|&n| n < 24)?;
        Some(CachedWord(bytes))
    }
}

/// A stem as an edit of its word: the first `keep` bytes, then `tail`.
#[derive(Clone, Copy)]
struct StemEdit {
    keep: u8,
    tail_len: u8,
    tail: [u8; 14],
}

impl StemEdit {
    /// The edit from `word` to `stem`, when its tail is short enough to hold inline.
    fn new(word: &str, stem: &str) -> Option<StemEdit> {
        let mut keep = std::iter::zip(word.bytes(), stem.bytes())
            .take_while(|(a, b)| a == b)
            .count();
        while !word.is_char_boundary(keep) {
            keep -= 1;
        }
        let tail = &stem.as_bytes()[keep..];
        let mut edit = StemEdit {
            keep: u8::try_from(keep).ok()?,
            tail_len: u8::try_from(tail.len()).ok()?,
            tail: [0; 14],
        };
        edit.tail.get_mut(..tail.len())?.copy_from_slice(tail);
        Some(edit)
    }

    fn apply(&self, word: &mut String) {
        let tail = std::str::from_utf8(&self.tail[..usize::from(self.tail_len)])
            .expect("a tail is cut at a character boundary of its stem");
        word.truncate(usize::from(self.keep));
        word.push_str(tail);
    }
}

/// Slots of [`StemCache::recent`]: 8,192 of 40 bytes stay within a core's own cache.
const RECENT_SLOTS: usize = 1 << 13;

/// The stems a thread has computed, by word, for words and stems short enough to hold inline
/// (nearly all: the others are stemmed each time).
struct StemCache {
    /// The last word seen at each slot (by its hash): the frequent words are found here
    /// without a miss of the core's cache, which a lookup in `all` mostly is.
    recent: Box<[(CachedWord, StemEdit)]>,
    all: FxHashMap<CachedWord, StemEdit>,
}

impl StemCache {
    fn new() -> StemCache {
        // An empty key is no word: words of fewer than three bytes are never looked up.
        let empty = (
            CachedWord([0; 24]),
            StemEdit {
                keep: 0,
                tail_len: 0,
                tail: [0; 14],
            },
        );
        StemCache {
            recent: vec![empty; RECENT_SLOTS].into_boxed_slice(),
            all: FxHashMap::default(),
        }
    }

    fn stem(&mut self, word: &mut String, key: CachedWord) {
        let hash = self.all.hasher().hash_one(key);
        let slot = (hash >> (64 - RECENT_SLOTS.trailing_zeros())) as usize;
        if self.recent[slot].0 == key {
            self.recent[slot].1.apply(word);
            return;
        }
        if let Some(&edit) = self.all.get(&key) {
            self.recent[slot] = (key, edit);
            edit.apply(word);
            return;
        }
        if self.all.len() >= STEM_CACHE_WORDS {
            self.all.clear();
        }
        let stem = english_stem(word);
        if let Some(edit) = StemEdit::new(word, &stem) {
            self.all.insert(key, edit);
            self.recent[slot] = (key, edit);
        }
        *word = stem;
    }
}

thread_local! {
    static STEMS: RefCell<StemCache> = RefCell::new(StemCache::new());
}

/// Whether the English stemmer leaves `word` as it is, told without stemming it: it keeps
/// words of one or two letters whole, and changes only endings made of letters.
fn keeps_whole(word: &str) -> bool {
    word.len() <= 2 || word.bytes().all(|b| b.is_ascii_digit())
}

/// Replaces `word` by its [`english_stem`], from this thread's cache when it has one.
fn stem_in_place(word: &mut String) {
    if keeps_whole(word) {
        return;
    }
    let Some(key) = CachedWord::new(word) else {
        *word = english_stem(word);
        return;
    };
    STEMS.with(|stems| stems.borrow_mut().stem(word, key));
}

/// Token filter replacing each token by its [`english_stem`] (cached per thread).
#[derive(Clone, Copy, Debug, Default)]
pub struct EnglishStems;

impl TokenFilter for EnglishStems {
    type Tokenizer<T: Tokenizer> = EnglishStemsFilter<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> EnglishStemsFilter<T> {
        EnglishStemsFilter { inner: tokenizer }
    }
}

/// [`EnglishStems`] over a tokenizer.
#[derive(Clone)]
pub struct EnglishStemsFilter<T> {
    inner: T,
}

impl<T: Tokenizer> Tokenizer for EnglishStemsFilter<T> {
    type TokenStream<'a> = EnglishStemsStream<T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        EnglishStemsStream {
            tail: self.inner.token_stream(text),
        }
    }
}

/// The token stream of [`EnglishStemsFilter`].
pub struct EnglishStemsStream<T> {
    tail: T,
}

impl<T: TokenStream> TokenStream for EnglishStemsStream<T> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        stem_in_place(&mut self.tail.token_mut().text);
        true
    }

    fn token(&self) -> &Token {
        self.tail.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::{english_stem, fold_spelling, keeps_whole, stem_in_place};

    proptest::proptest! {
        /// Twice, so that the second comes from the cache.
        #[test]
        fn cached_stems_are_the_stems(word in "[a-z]{3,30}|[a-zé]{3,12}(ies|ing|ed|ise|our|y)") {
            for _ in 0..2 {
                let mut cached = word.clone();
                stem_in_place(&mut cached);
                proptest::prop_assert_eq!(&cached, &english_stem(&word));
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn words_kept_whole_are_their_own_stems(word in "([a-z]|\\PC){1,2}|[0-9]{1,12}") {
            let word = word.to_lowercase();
            if keeps_whole(&word) {
                proptest::prop_assert_eq!(english_stem(&word), word);
            }
        }
    }

    fn same(british: &str, american: &str) {
        let fold = |w: &str| fold_spelling(w).unwrap_or_else(|| w.to_owned());
        assert_eq!(fold(british), fold(american), "{british} / {american}");
    }

    #[test]
    fn british_and_american_spellings_fold_together() {
        for (british, american) in [
            ("personalised", "personalized"),
            ("personalise", "personalize"),
            ("organisation", "organization"),
            ("organisations", "organizations"),
            ("analyse", "analyze"),
            ("analysing", "analyzing"),
            ("behaviour", "behavior"),
            ("behavioural", "behavioral"),
            ("colours", "colors"),
            ("favourite", "favorite"),
            ("honoured", "honored"),
            ("centre", "center"),
            ("centres", "centers"),
            ("fibre", "fiber"),
            ("catalogue", "catalog"),
            ("dialogues", "dialogs"),
            ("licence", "license"),
            ("defence", "defense"),
            ("cancelled", "canceled"),
            ("cancelling", "canceling"),
            ("travelled", "traveled"),
            ("labelling", "labeling"),
            ("modelled", "modeled"),
            ("programme", "program"),
            ("judgement", "judgment"),
        ] {
            same(british, american);
        }
    }

    #[test]
    fn words_without_variants_are_left_alone() {
        for word in [
            "hour",
            "four",
            "your",
            "tour",
            "contour",
            "our",
            "called",
            "spelled",
            "filled",
            "killed",
            "rise",
            "wise",
            "genre",
            "vogue",
            "league",
            "ise",
            "colleague",
            "data",
        ] {
            assert_eq!(fold_spelling(word), None, "{word}");
        }
    }

    #[test]
    fn distinct_words_stay_distinct() {
        let fold = |w: &str| fold_spelling(w).unwrap_or_else(|| w.to_owned());
        for (a, b) in [
            ("filled", "filed"),
            ("hour", "hor"),
            ("four", "for"),
            ("called", "caled"),
        ] {
            assert_ne!(fold(a), fold(b), "{a} / {b}");
        }
    }
}
