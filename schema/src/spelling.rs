//! British and American spellings folded to one form, so that `personalised` and
//! `personalized`, `licence` and `license`, `cancelled` and `canceled` are one word to the
//! stemmed fields. The folding runs on lowercased ASCII tokens before the stemmer, at index
//! and at query time alike, so a word only needs to fold the same way on both sides: the
//! form it folds to need not be a real spelling, only one no other word folds to.

use std::cell::RefCell;
use std::collections::HashMap;

use xxhash_rust::xxh3::Xxh3DefaultBuilder;

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

thread_local! {
    /// The stems this thread has computed, by word.
    static STEMS: RefCell<HashMap<String, String, Xxh3DefaultBuilder>> =
        RefCell::new(HashMap::default());
}

/// Replaces `word` by its [`english_stem`], from this thread's cache when it has one.
fn stem_in_place(word: &mut String) {
    STEMS.with(|stems| {
        let mut stems = stems.borrow_mut();
        match stems.get(word.as_str()) {
            Some(stem) if stem == word => {}
            Some(stem) => {
                word.clear();
                word.push_str(stem);
            }
            None => {
                if stems.len() >= STEM_CACHE_WORDS {
                    stems.clear();
                }
                let stem = english_stem(word);
                let typed = std::mem::replace(word, stem.clone());
                stems.insert(typed, stem);
            }
        }
    });
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
    use super::fold_spelling;

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
