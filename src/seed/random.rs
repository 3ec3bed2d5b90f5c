//! Deterministic randomness and the words a generated company writes with.

/// SplitMix64: small, fast, and the same sequence for the same seed on every machine.
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// An independent stream for one part of the generation, so changing one part leaves the others'
    /// data as it was.
    pub fn stream(seed: u64, part: u64) -> Rng {
        let mut rng = Rng(seed ^ part.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        rng.next_u64();
        rng
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n.max(1) as u128) >> 64) as u64
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// One of `items`.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// A rank in `0..n` by Zipf's law (the k-th is about 1/k as likely as the first), as word use in
    /// text and the popularity of people and topics are.
    pub fn zipf(&mut self, n: usize) -> usize {
        let r = self.unit();
        ((r * ((n + 1) as f64).ln()).exp() as usize).saturating_sub(1).min(n.max(1) - 1)
    }

    /// A value in `[low, high]` spread evenly on a log scale, skewed further towards `low` by `skew`
    /// (1.0 = log-uniform).
    pub fn log_between(&mut self, low: f64, high: f64, skew: f64) -> f64 {
        low * (high / low).powf(self.unit().powf(skew))
    }
}

/// A fixed shuffle of `0..n` (an affine map with a multiplier coprime to `n`), so that "the most
/// popular" people or campaigns are spread over the ids instead of being the first ones.
#[derive(Clone, Copy)]
pub struct Shuffle {
    n: u64,
    a: u64,
    b: u64,
}

impl Shuffle {
    pub fn new(n: u64, rng: &mut Rng) -> Shuffle {
        let n = n.max(1);
        let mut a = (rng.next_u64() % n) | 1;
        while gcd(a, n) != 1 {
            a += 2;
        }
        Shuffle { n, a: a % n.max(2), b: rng.below(n) }
    }

    pub fn at(&self, i: u64) -> u64 {
        if self.n == 1 {
            return 0;
        }
        ((self.a as u128 * i as u128 + self.b as u128) % self.n as u128) as u64
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// The text with its first letter in upper case.
pub fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// The commonest words of English text, which search leaves out.
pub const STOP: [&str; 36] = [
    "the", "of", "and", "to", "a", "in", "is", "it", "that", "for", "on", "with", "as", "at", "by", "this", "be",
    "from", "or", "an", "are", "was", "but", "not", "our", "they", "their", "so", "if", "no", "into", "its", "then",
    "there", "these", "such",
];

/// Words of workplace talk, commonest first.
pub const WORDS: &str = "meeting budget coffee quarter roadmap office travel design review launch customer \
    packaging waste supplier crate pallet shipping warehouse invoice contract release feature bug \
    incident outage deploy server database search index report dashboard campaign idea vote comment \
    team manager engineer sales marketing finance legal hiring onboarding training workshop offsite \
    lunch parking bicycle train remote hybrid desk laptop monitor printer badge security password \
    policy holiday vacation sick leave payroll bonus salary promotion feedback survey goal target \
    revenue cost saving energy solar heating cooling water recycling plastic paper cardboard label \
    sustainability carbon emissions transport truck van delivery route schedule shift overtime \
    safety helmet quality defect audit inspection order stock inventory forecast \
    planning strategy vision mission values culture diversity inclusion wellbeing mentoring career \
    newsletter announcement update question answer thanks welcome congratulations farewell birthday \
    project milestone deadline sprint backlog ticket kanban retro demo prototype experiment pilot \
    partner vendor licence renewal subscription cloud storage backup migration upgrade patch \
    network wifi vpn email calendar chat video call conference room booking kitchen canteen menu \
    garden plants music event party charity volunteering donation community club football running";

/// Distinct words in generated text: stop-words, then [`WORDS`], then rarer made-up words.
pub const VOCABULARY: usize = 20_000;

/// Text of `words` words whose frequencies follow Zipf's law over [`VOCABULARY`]: stop-words are the
/// commonest, so the commonest searchable word is in about one text in twenty.
pub fn text(rng: &mut Rng, vocabulary: &[&str], words: usize) -> String {
    let mut out = String::with_capacity(words * 7);
    for i in 0..words {
        if i > 0 {
            out.push(' ');
        }
        let rank = rng.zipf(VOCABULARY);
        if rank < STOP.len() {
            out.push_str(STOP[rank]);
        } else if let Some(word) = vocabulary.get(rank - STOP.len()) {
            out.push_str(word);
        } else {
            out.push('w');
            out.push_str(&rank.to_string());
        }
    }
    out
}

pub const FIRST_NAMES: [&str; 48] = [
    "anna", "ben", "carla", "david", "elena", "farid", "grace", "hugo", "ines", "jonas", "kira", "lars", "maria",
    "nils", "olga", "pedro", "quinn", "rosa", "sam", "tara", "umar", "vera", "wim", "xenia", "yusuf", "zoe", "amir",
    "bea", "chen", "dana", "emil", "fatima", "gus", "hana", "ivan", "jade", "karim", "lena", "marco", "nora", "oscar",
    "priya", "rafael", "sofia", "tomas", "uma", "viktor", "wen",
];

pub const LAST_NAMES: [&str; 48] = [
    "berg", "costa", "dubois", "eriksen", "fischer", "garcia", "hansen", "ito", "jansen", "kowalski", "larsen",
    "meyer", "novak", "olsen", "petrov", "quist", "rossi", "schmidt", "tanaka", "urban", "vogel", "weber", "xu",
    "young", "zimmer", "ahmed", "bauer", "chopra", "dias", "evans", "fontaine", "gupta", "horvat", "iqbal", "jensen",
    "kim", "lopez", "moreau", "nakamura", "ortiz", "park", "reyes", "silva", "torres", "varga", "wagner", "yilmaz",
    "zhang",
];

/// Departments with their share of the company.
pub const DEPARTMENTS: [(&str, u32); 16] = [
    ("Engineering", 20),
    ("Sales", 12),
    ("Manufacturing", 12),
    ("Operations", 10),
    ("Logistics", 9),
    ("Customer Service", 8),
    ("Marketing", 6),
    ("Finance", 4),
    ("Quality", 4),
    ("Human Resources", 3),
    ("Procurement", 3),
    ("Research", 3),
    ("IT", 3),
    ("Legal", 1),
    ("Facilities", 1),
    ("Communications", 1),
];

pub const LOCATIONS: [&str; 12] = [
    "Amsterdam",
    "Berlin",
    "Lyon",
    "Manchester",
    "Austin",
    "Toronto",
    "Sao Paulo",
    "Singapore",
    "Pune",
    "Krakow",
    "Madrid",
    "Dublin",
];

pub const TITLES: [&str; 8] =
    ["Specialist", "Senior Specialist", "Lead", "Analyst", "Coordinator", "Manager", "Associate", "Director"];

pub const LEADERS: [&str; 10] = [
    "Chief Executive Officer",
    "Chief Operating Officer",
    "Chief Financial Officer",
    "Chief People Officer",
    "Chief Technology Officer",
    "Chief Sustainability Officer",
    "Chief Marketing Officer",
    "Chief Sales Officer",
    "Chief Information Officer",
    "Chief Legal Officer",
];

pub const QUESTIONS: [&str; 8] = [
    "How do we cut {a} {b}?",
    "What would make {a} easier for you?",
    "How can we save {a} in {b}?",
    "Which {a} should we change first?",
    "How do we improve {a} for our customers?",
    "What slows down {a} and {b}?",
    "How could {a} be more sustainable?",
    "Where do we waste {a}?",
];
