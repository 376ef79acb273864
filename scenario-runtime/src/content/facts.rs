//! What one trace (or one conversation) is about: the traveller, where from and where to, the
//! dates, the order and ticket in question, and which offer the agent settles on.
//!
//! Every piece of content that names such an entity takes it from here, so that within a trace
//! the user's request, the tools' arguments, their results, the ids passed from one tool to the
//! next and the figures the answer quotes agree. Facts are drawn from a seed (the trace's
//! content seed, or a conversation's first turn's), so a seed repeats them.

use rand::Rng;

use super::ToolKind;
use super::vocab::{AIRPORTS, FIRST_NAMES, LAST_NAMES, MONTHS};

/// The entities of one trace or conversation. Small and `Copy`: content generators keep it by
/// value next to the random state they replay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Facts {
    origin: u8,
    destination: u8,
    month: u8,
    day: u8,
    nights: u8,
    first: u8,
    last: u8,
    guests: u8,
    /// Which of the destination's offers the agent picks (the first record of each result).
    pick: u16,
    ticket: u32,
    order: u32,
}

/// Salt of the facts' draws, so they do not repeat the seed's other draws.
const FACTS_SALT: u64 = 0xFAC7_5000;

impl Facts {
    /// The facts seeded by `seed`.
    pub fn from_seed(seed: u64) -> Self {
        let mut rng = super::rng(seed ^ FACTS_SALT);
        let destination = rng.random_range(0..AIRPORTS.len()) as u8;
        let mut origin = rng.random_range(0..AIRPORTS.len() - 1) as u8;
        if origin >= destination {
            origin += 1;
        }
        Self {
            origin,
            destination,
            month: rng.random_range(1..=12),
            day: rng.random_range(1..=20),
            nights: rng.random_range(1..=7),
            first: rng.random_range(0..FIRST_NAMES.len()) as u8,
            last: rng.random_range(0..LAST_NAMES.len()) as u8,
            guests: rng.random_range(1..=4),
            pick: rng.random(),
            ticket: rng.random_range(10_000..99_999),
            order: rng.random_range(1_000_000..9_999_999),
        }
    }

    /// The origin airport: IATA code and city.
    pub fn origin(&self) -> (&'static str, &'static str) {
        AIRPORTS[usize::from(self.origin) % AIRPORTS.len()]
    }

    /// The destination airport: IATA code and city.
    pub fn destination(&self) -> (&'static str, &'static str) {
        AIRPORTS[self.destination_index()]
    }

    /// The destination's index in the airport list (record pools are laid out by it).
    pub fn destination_index(&self) -> usize {
        usize::from(self.destination) % AIRPORTS.len()
    }

    /// The first day of the trip, `YYYY-MM-DD`.
    pub fn start(&self) -> String {
        self.start_date().to_owned()
    }

    /// The last day of the trip, `YYYY-MM-DD`.
    pub fn end(&self) -> String {
        self.end_date().to_owned()
    }

    /// [`Self::start`] without allocating: tool results write it into every record.
    pub fn start_date(&self) -> Date {
        Date::new(self.month, self.day)
    }

    /// [`Self::end`] without allocating (the same month: trips start by the 20th and last at
    /// most 7 nights).
    pub fn end_date(&self) -> Date {
        Date::new(self.month, self.day + self.nights)
    }

    /// The trip's month, spelled out.
    pub fn month_name(&self) -> &'static str {
        MONTHS[usize::from(self.month - 1) % MONTHS.len()]
    }

    pub fn nights(&self) -> u32 {
        u32::from(self.nights)
    }

    pub fn guests(&self) -> u32 {
        u32::from(self.guests)
    }

    /// The traveller or customer: first and last name.
    pub fn person(&self) -> (&'static str, &'static str) {
        (
            FIRST_NAMES[usize::from(self.first) % FIRST_NAMES.len()],
            LAST_NAMES[usize::from(self.last) % LAST_NAMES.len()],
        )
    }

    /// Which of `offers` offers the agent settles on.
    pub fn pick(&self, offers: usize) -> usize {
        usize::from(self.pick) % offers.max(1)
    }

    /// The support ticket in question, `SUP-12345`.
    pub fn ticket(&self) -> String {
        let mut out = String::with_capacity(9);
        self.push_ticket(&mut out);
        out
    }

    /// Appends [`Self::ticket`] to `out`.
    pub fn push_ticket(&self, out: &mut String) {
        push_numbered(out, "SUP-", self.ticket);
    }

    /// The customer's order in question, `ORD-1234567`.
    pub fn order(&self) -> String {
        let mut out = String::with_capacity(11);
        self.push_order(&mut out);
        out
    }

    /// Appends [`Self::order`] to `out`.
    pub fn push_order(&self, out: &mut String) {
        push_numbered(out, "ORD-", self.order);
    }
}

/// Appends `prefix` and `number` in decimal.
fn push_numbered(out: &mut String, prefix: &str, number: u32) {
    out.push_str(prefix);
    out.push_str(itoa::Buffer::new().format(number));
}

/// A day of 2026 as `YYYY-MM-DD`, kept inline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Date([u8; 10]);

impl Date {
    fn new(month: u8, day: u8) -> Self {
        let mut text = *b"2026-00-00";
        text[5] += month / 10;
        text[6] += month % 10;
        text[8] += day / 10;
        text[9] += day % 10;
        Self(text)
    }

    pub fn as_str(&self) -> &str {
        // ASCII digits and dashes only.
        std::str::from_utf8(&self.0).unwrap_or("2026-01-01")
    }

    pub fn to_owned(self) -> String {
        self.as_str().to_owned()
    }
}

impl Default for Date {
    fn default() -> Self {
        Self::new(1, 1)
    }
}

impl Facts {
    /// How the user asks for what a trace of tools of `kind` does, naming the facts: the first
    /// words of an agent's request.
    pub fn request(&self, kind: Option<ToolKind>) -> String {
        let (first, last) = self.person();
        let (_, from) = self.origin();
        let (code, city) = self.destination();
        let (start, end, guests) = (self.start(), self.end(), self.guests());
        match kind {
            Some(ToolKind::Flights) => format!(
                "Hi, this is {first} {last}. I need a flight from {from} to {city} on {start} for {guests}, coming back on {end}. What are my options?"
            ),
            Some(ToolKind::Hotels) => format!(
                "Hi, this is {first} {last}. Please book a hotel in {city} from {start} to {end} for {guests}, ideally under {} per night.",
                100 + 40 * guests
            ),
            Some(ToolKind::Cars) => format!(
                "Hi, this is {first} {last}. I land at {code} on {start} and need a rental car until {end}."
            ),
            Some(ToolKind::Weather) => format!(
                "What will the weather be like in {city} on {start}? {first} is flying in from {from}."
            ),
            Some(ToolKind::Tickets) => format!(
                "Hi, this is {first} {last}. My order {} has not arrived and ticket {} has had no answer since {start}. Can you help?",
                self.order(),
                self.ticket()
            ),
            Some(ToolKind::Code) => format!(
                "The test suite on main has failed since {start}. Please find the cause, fix it and open a pull request; {first} {last} will review."
            ),
            Some(ToolKind::Documents) => format!(
                "Question from {first} {last}: what do our guides say about a trip to {city} in {}, and what should I check before {start}?",
                self.month_name()
            ),
            Some(ToolKind::Generic) | None => format!(
                "Hi, this is {first} {last}. I am planning a trip from {from} to {city}, {start} to {end}, for {guests}. Can you help me with it?"
            ),
        }
    }

    /// What an answer about tools of `kind` concludes, quoting the offer the trace settled on
    /// (its figures as its results show them): the first words of a final answer.
    pub fn conclusion(&self, kind: Option<ToolKind>) -> String {
        let (first, _) = self.person();
        let (code, city) = self.destination();
        let (start, end) = (self.start(), self.end());
        let record = kind.and_then(|kind| super::chosen_record(kind, self));
        let record: Option<serde_json::Value> = record.and_then(|r| serde_json::from_str(&r).ok());
        let field = |key: &str| -> String {
            record.as_ref().and_then(|r| r.get(key)).map_or_else(String::new, |v| match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            })
        };
        let money = |key: &str| -> String {
            record.as_ref().and_then(|r| r.get(key)).map_or_else(String::new, |v| {
                format!("{} {}", v["amount"], v["currency"].as_str().unwrap_or("USD"))
            })
        };
        match kind {
            Some(ToolKind::Flights) if record.is_some() => format!(
                "{first}, the best option is {} flight {} from {} to {code} on {start}, departing at {}, for {}. Shall I book it?",
                field("airline"),
                field("flight_number"),
                field("origin"),
                field("departure"),
                money("price")
            ),
            Some(ToolKind::Hotels) if record.is_some() => format!(
                "{first}, I found {} ({} stars, rated {}) in {city} for {} per night from {start} to {end}, with free cancellation until {start}.",
                field("name"),
                field("stars"),
                field("rating"),
                money("price_per_night")
            ),
            Some(ToolKind::Cars) if record.is_some() => format!(
                "{first}, {} has a {} ({}) at {code} from {start} to {end} for {} per day.",
                field("vendor"),
                field("model"),
                field("class"),
                money("daily_rate")
            ),
            Some(ToolKind::Weather) if record.is_some() => format!(
                "In {city} on {start} expect {}, with a high of {}C and a low of {}C.",
                field("condition"),
                field("high_c"),
                field("low_c")
            ),
            Some(ToolKind::Tickets) => format!(
                "{first}, I have escalated ticket {} about order {}: you will hear from us by email within a day.",
                self.ticket(),
                self.order()
            ),
            Some(ToolKind::Code) => format!(
                "The failure since {start} is fixed: the tests pass again and the pull request is open for review."
            ),
            _ => format!(
                "{first}, here is what I found about your trip to {city} from {start} to {end}."
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_arguments_and_conclusions_agree_on_the_trip() {
        for seed in 0..50 {
            let facts = Facts::from_seed(seed);
            let (code, city) = facts.destination();
            let mut rng = crate::content::rng(seed);
            let mut hotels = String::new();
            crate::content::push_tool_result_about(
                &mut hotels,
                ToolKind::Hotels,
                Some(&facts),
                &mut rng,
                20_000,
            );
            let parsed: serde_json::Value = serde_json::from_str(&hotels).unwrap_or_default();
            let results = parsed["results"].as_array().cloned().unwrap_or_default();
            assert!(results.len() > 5, "{hotels}");
            for record in &results {
                assert_eq!(record["city"], city, "{record}");
            }
            let chosen = crate::content::chosen_offer(ToolKind::Hotels, &facts);
            assert_eq!(results[0]["hotel_id"].as_str(), chosen.as_deref());
            let booking = crate::content::tool_arguments_about(
                ToolKind::Hotels,
                &facts,
                chosen.as_deref(),
                &mut rng,
            );
            let booking: serde_json::Value = serde_json::from_str(&booking).unwrap_or_default();
            assert_eq!(booking["city"], city);
            assert_eq!(booking["check_in"], facts.start().as_str());
            assert_eq!(booking["hotel_id"], results[0]["hotel_id"]);
            let conclusion = facts.conclusion(Some(ToolKind::Hotels));
            let name = results[0]["name"].as_str().unwrap_or("?");
            assert!(conclusion.contains(name) && conclusion.contains(city), "{conclusion}");

            let mut flights = String::new();
            crate::content::push_tool_result_about(
                &mut flights,
                ToolKind::Flights,
                Some(&facts),
                &mut rng,
                20_000,
            );
            let parsed: serde_json::Value = serde_json::from_str(&flights).unwrap_or_default();
            for record in parsed["results"].as_array().into_iter().flatten() {
                assert_eq!(record["origin"], facts.origin().0, "{record}");
                assert_eq!(record["destination"], code, "{record}");
                assert_eq!(record["date"], facts.start().as_str(), "{record}");
            }
        }
    }

    #[test]
    fn facts_repeat_per_seed_and_travel_somewhere_else() {
        assert_eq!(Facts::from_seed(7), Facts::from_seed(7));
        let differ = (0..100).filter(|&s| Facts::from_seed(s) != Facts::from_seed(s + 1)).count();
        assert_eq!(differ, 100);
        for seed in 0..1_000 {
            let facts = Facts::from_seed(seed);
            assert_ne!(facts.origin(), facts.destination());
            assert!(facts.start() < facts.end() && facts.end().len() == 10, "{facts:?}");
            let written = format!("2026-{:02}-{:02}", facts.month, facts.day);
            assert_eq!(facts.start(), written);
            assert_eq!(facts.order(), format!("ORD-{}", facts.order));
        }
    }
}
