//! A pool of realistic prose, built once, that messages are cut from.
//!
//! Generating text word by word runs at a few hundred MB/s, too slow to feed an exporter that
//! must push more than 1 GB/s. So the prose is generated once (a few MB, from a fixed seed) and
//! every message copies a slice of it starting at a random sentence: the cost is a `memcpy`, and
//! since a slice is rarely longer than a small fraction of the pool, each message still has the
//! entropy of fresh text (it gzips like real chat traffic, 2.5x-6x, not like padding).

use rand::Rng;
use rand::rngs::SmallRng;

use super::vocab::*;

/// Prose and the offsets where its sentences start.
#[derive(Debug)]
pub struct TextPool {
    text: String,
    starts: Vec<u32>,
}

impl TextPool {
    /// Generates about `bytes` of prose from `seed`.
    pub fn build(bytes: usize, seed: u64) -> Self {
        let mut writer = Writer { rng: super::rng(seed), out: String::with_capacity(bytes + 512) };
        let mut starts = Vec::with_capacity(bytes / 60);
        while writer.out.len() < bytes {
            starts.push(writer.out.len() as u32);
            writer.sentence();
            writer.out.push(' ');
        }
        Self { text: writer.out, starts }
    }

    /// The whole pool.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Appends exactly `len` bytes of prose to `out`, starting at a random sentence and ending
    /// with a full stop.
    pub fn push(&self, out: &mut String, rng: &mut SmallRng, len: usize) {
        let mut remaining = len;
        while remaining > 0 {
            let take = remaining.min(self.chunk_max());
            let start = self.random_start(rng);
            if remaining == take && take >= 2 {
                out.push_str(&self.text[start..start + take - 1]);
                out.push('.');
            } else {
                out.push_str(&self.text[start..start + take]);
            }
            remaining -= take;
        }
    }

    /// A sentence start in the pool's first half, from which any slice the pool hands out
    /// (at most half the pool) fits. The choice does not depend on the slice's length, so the
    /// same random state gives the same text cut to different lengths (an agent's system
    /// prompt is one text, however much of it a budget lets through).
    fn random_start(&self, rng: &mut SmallRng) -> usize {
        let last = self.text.len() - self.chunk_max();
        let usable = self.starts.partition_point(|&s| s as usize <= last).max(1);
        self.starts[rng.random_range(0..usable)] as usize
    }

    fn chunk_max(&self) -> usize {
        (self.text.len() / 2).max(1)
    }

    /// A short phrase (a few words) for names, titles and notes.
    pub fn phrase(&self, rng: &mut SmallRng, len: usize) -> &str {
        let start = self.random_start(rng);
        let mut end = start + len.min(self.chunk_max());
        // End on a word boundary so titles do not stop mid-word.
        while end > start + 1 && !self.text.as_bytes()[end - 1].is_ascii_alphanumeric() {
            end -= 1;
        }
        &self.text[start..end]
    }
}

/// Writes sentences of travel, support and coding talk.
struct Writer {
    rng: SmallRng,
    out: String,
}

impl Writer {
    /// A word from `list`, favouring its first entries the way real word frequencies do.
    fn word(&mut self, list: &[&'static str]) -> &'static str {
        let u: f64 = self.rng.random();
        list[((u * u * u * list.len() as f64) as usize).min(list.len() - 1)]
    }

    fn any<T: Copy>(&mut self, list: &[T]) -> T {
        list[self.rng.random_range(0..list.len())]
    }

    fn put(&mut self, s: &str) {
        self.out.push_str(s);
    }

    fn space(&mut self, s: &str) {
        self.out.push(' ');
        self.out.push_str(s);
    }

    fn number(&mut self, low: i32, high: i32) {
        let n = self.rng.random_range(low..=high);
        self.out.push(' ');
        self.out.push_str(&n.to_string());
    }

    fn price(&mut self) {
        let cents = self.rng.random_range(1_500..250_000u32);
        let currency = self.any(CURRENCIES);
        self.out.push_str(&format!(" {} {}.{:02}", currency, cents / 100, cents % 100));
    }

    fn date(&mut self) {
        let month = self.any(MONTHS);
        let day = self.rng.random_range(1..=28u32);
        self.out.push_str(&format!(" {month} {day}"));
    }

    fn time(&mut self) {
        let h = self.rng.random_range(5..23u32);
        let m = self.rng.random_range(0..12u32) * 5;
        self.out.push_str(&format!(" {h:02}:{m:02}"));
    }

    fn person(&mut self) {
        let first = self.any(FIRST_NAMES);
        let last = self.any(LAST_NAMES);
        self.out.push_str(&format!(" {first} {last}"));
    }

    fn city(&mut self) {
        let (_, city) = self.any(AIRPORTS);
        self.space(city);
    }

    fn noun_phrase(&mut self) {
        let det = self.word(DETERMINERS);
        self.space(det);
        if self.rng.random_bool(0.55) {
            let adj = self.word(ADJECTIVES);
            self.space(adj);
        }
        let noun = self.word(NOUNS);
        self.space(noun);
    }

    /// `I can rebook the connecting flight before the fare expires tonight`: who, a verb with
    /// an object it goes with, and sometimes why.
    fn plan(&mut self) {
        let actor = self.word(ACTORS);
        self.space(actor);
        let action = self.any(ACTIONS);
        self.space(action);
        // Who it is for, by when or at what price: what makes one plan differ from another.
        match self.rng.random_range(0..4u32) {
            0 => {
                self.put(" for");
                self.person();
            }
            1 => {
                self.put(" by");
                self.date();
                self.put(" at");
                self.time();
            }
            2 => {
                self.put(" for");
                self.price();
            }
            _ => {}
        }
        if self.rng.random_bool(0.5) {
            let purpose = self.any(PURPOSES);
            self.space(purpose);
        }
    }

    fn clause(&mut self) {
        let subject = self.word(SUBJECTS);
        self.space(subject);
        if self.rng.random_bool(0.3) {
            let adverb = self.word(ADVERBS);
            self.space(adverb);
        }
        let verb = self.word(VERBS);
        self.space(verb);
        self.noun_phrase();
        if self.rng.random_bool(0.6) {
            let prep = self.word(PREPOSITIONS);
            self.space(prep);
            self.noun_phrase();
        }
    }

    /// Capitalises the first letter written since `from`.
    fn capitalise(&mut self, from: usize) {
        let rest = self.out.split_off(from);
        let trimmed = rest.trim_start();
        let mut chars = trimmed.chars();
        if let Some(first) = chars.next() {
            self.out.extend(first.to_uppercase());
            self.out.push_str(chars.as_str());
        }
    }

    fn sentence(&mut self) {
        let from = self.out.len();
        match self.rng.random_range(0..20u32) {
            0..=2 => {
                self.plan();
                self.put(".");
            }
            3..=4 => {
                self.plan();
                self.put(", and");
                let action = self.any(ACTIONS);
                self.space(action);
                self.put(".");
            }
            5 => {
                self.clause();
                self.put(".");
            }
            6 => {
                let (code, name) = self.any(AIRLINES);
                self.put(&format!(" {name} flight {code}"));
                self.number(100, 2999);
                self.put(" leaves");
                self.city();
                self.put(" at");
                self.time();
                self.put(" on");
                self.date();
                self.put(" and lands in");
                self.city();
                self.put(" at");
                self.time();
                self.put(", fare");
                self.price();
                self.put(".");
            }
            7 => {
                let brand = self.any(HOTEL_BRANDS);
                let kind = self.any(HOTEL_KINDS);
                self.put(&format!(" The {brand} {kind} in"));
                self.city();
                self.put(" has");
                self.number(1, 14);
                self.put(" rooms left from");
                self.price();
                self.put(" per night, rated");
                let rating = self.rng.random_range(30..50u32);
                self.put(&format!(" {}.{}", rating / 10, rating % 10));
                self.put(" by");
                self.number(40, 9000);
                self.put(" guests.");
            }
            8 => {
                self.put(" Ticket #");
                let n = self.rng.random_range(10_000..99_999u32);
                self.put(&n.to_string());
                self.put(" from");
                self.person();
                self.put(" reports that");
                self.noun_phrase();
                self.put(" was");
                let adj = self.word(ADJECTIVES);
                self.space(adj);
                self.put(" after");
                self.noun_phrase();
                self.put(".");
            }
            9 => {
                let dir = self.any(CODE_DIRS);
                let file = self.any(CODE_FILES);
                let ext = self.any(CODE_EXTS);
                let line = self.rng.random_range(12..900u32);
                let func = self.any(FUNCTIONS);
                let err = self.any(ERRORS);
                self.put(&format!(" In {dir}/{file}.{ext} line {line}, {func} fails with {err}."));
            }
            10 => {
                let ident = self.any(IDENTIFIERS);
                let func = self.any(FUNCTIONS);
                self.put(&format!(" Pass {ident} to {func}() instead of cloning it"));
                self.put(", then");
                let verb = self.word(VERBS);
                self.space(verb);
                self.noun_phrase();
                self.put(".");
            }
            11 => {
                self.put(" The forecast for");
                self.city();
                self.put(" on");
                self.date();
                let cond = self.any(CONDITIONS);
                self.put(&format!(" is {cond} with a high of"));
                self.number(-5, 38);
                self.put("C and");
                self.number(0, 90);
                self.put("% chance of rain.");
            }
            12 => {
                self.put(" Would you like me to");
                let action = self.any(ACTIONS);
                self.space(action);
                self.put(" or");
                let action = self.any(ACTIONS);
                self.space(action);
                self.put("?");
            }
            13 => {
                let product = self.any(PRODUCTS);
                self.put(&format!(" {product} costs"));
                self.price();
                self.put(", and");
                self.plan();
                self.put(".");
            }
            14 => {
                self.person();
                self.put(" asked whether we can");
                let action = self.any(ACTIONS);
                self.space(action);
                self.put(".");
            }
            15 => {
                self.put(" Step");
                self.number(1, 9);
                self.put(":");
                let action = self.any(ACTIONS);
                self.space(action);
                if self.rng.random_bool(0.5) {
                    let purpose = self.any(PURPOSES);
                    self.space(purpose);
                }
                self.put(".");
            }
            16 => {
                let (car, class) = self.any(CAR_MODELS);
                let vendor = self.any(CAR_VENDORS);
                self.put(&format!(" {vendor} offers a {car} ({class}) at"));
                let (code, _) = self.any(AIRPORTS);
                self.put(&format!(" {code} for"));
                self.price();
                self.put(" per day with");
                self.number(100, 400);
                self.put(" free miles.");
            }
            17 => {
                let site = self.any(SITES);
                let file = self.any(CODE_FILES);
                self.put(&format!(" According to https://{site}/{file}"));
                self.number(1, 999);
                self.put(",");
                self.clause();
                self.put(".");
            }
            _ => {
                self.plan();
                self.put(" within");
                self.number(2, 72);
                self.put(" hours.");
            }
        }
        self.capitalise(from);
    }
}
