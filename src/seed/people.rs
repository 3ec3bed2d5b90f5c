//! People, who follows whom, topic follows and communities.

use std::collections::{HashMap, HashSet};

use super::random::{
    self, DEPARTMENTS, FIRST_NAMES, LAST_NAMES, LEADERS, LOCATIONS, Rng, Shuffle, TITLES, capitalised,
};
use super::{DAY, Progress, Rows, Seeding, Written, begin, finish, renew, with_ids};
use crate::db::{Arg, Exec};

/// What later parts need to know about the people and communities written.
pub(super) struct Company {
    pub people: u32,
    pub usernames: Vec<String>,
    /// Popularity order: rank 0 is the person most followed.
    pub popular: Shuffle,
    /// Activity order, unrelated to popularity: rank 0 writes the most.
    pub activity: Shuffle,
    pub communities: Vec<Community>,
    /// Accounts with the manager role, who run campaigns.
    pub managers: Vec<u32>,
    pub topics: Vec<&'static str>,
    pub vocabulary: Vec<&'static str>,
}

pub(super) struct Community {
    pub members: Vec<u32>,
    pub private: bool,
}

impl Company {
    /// Someone picked by popularity: `skew` 1.0 is everyone alike, higher favours the popular.
    pub fn someone(&self, rng: &mut Rng, skew: f64) -> u32 {
        let rank = (self.people as f64 * rng.unit().powf(skew)) as u64;
        self.popular.at(rank.min(self.people as u64 - 1)) as u32 + 1
    }

    /// Someone picked by how much they write (a quarter of the people write half the posts).
    pub fn active(&self, rng: &mut Rng) -> u32 {
        let rank = (self.people as f64 * rng.unit().powf(2.0)) as u64;
        self.activity.at(rank.min(self.people as u64 - 1)) as u32 + 1
    }

    pub fn username(&self, id: u32) -> &str {
        &self.usernames[id as usize - 1]
    }

    /// How many "leaders" (followed by most of the company) there are: ids 2 up to this and 1.
    pub fn leaders(&self) -> u32 {
        leaders(self.people)
    }
}

fn leaders(people: u32) -> u32 {
    (people / 10).min(LEADERS.len() as u32)
}

pub(super) async fn generate(
    run: Seeding<'_>,
    password_hash: &str,
    written: &mut Written,
) -> Result<Company, sqlx::Error> {
    let Seeding { db, size, seed, now } = run;
    let people = size.people;
    let vocabulary: Vec<&'static str> = random::WORDS.split_whitespace().collect();
    let mut rng = Rng::stream(seed, 1);
    let popular = Shuffle::new(people as u64, &mut rng);
    let activity = Shuffle::new(people as u64, &mut rng);
    let weights: u32 = DEPARTMENTS.iter().map(|(_, w)| w).sum();

    // Accounts.
    let mut progress = Progress::start("people", people as u64);
    let mut usernames = Vec::with_capacity(people as usize);
    let mut taken: HashMap<String, u32> = HashMap::new();
    let mut department_of = Vec::with_capacity(people as usize);
    let mut managers = Vec::new();
    let mut rows = Rows::new(
        "people",
        with_ids!(
            db.engine(),
            "INSERT INTO users (id, username, email, display_name, password_hash, role, job_title, department,
                                location, bio, created_at)"
        ),
        11,
    );
    let mut tx = begin(db).await?;
    for id in 1..=people {
        let first = *rng.pick(&FIRST_NAMES);
        let last = *rng.pick(&LAST_NAMES);
        let mut department = rng.below(weights as u64) as u32;
        let department = DEPARTMENTS
            .iter()
            .position(|(_, w)| {
                let here = department < *w;
                department = department.saturating_sub(*w);
                here
            })
            .unwrap_or(0);
        department_of.push(department as u8);
        let (username, display_name) = if id == 1 {
            ("admin".to_owned(), "Site Admin".to_owned())
        } else {
            let base = format!("{first}_{last}");
            let n = taken.entry(base.clone()).or_insert(0);
            *n += 1;
            let username = if *n == 1 { base } else { format!("{base}{n}") };
            (username, format!("{} {}", capitalised(first), capitalised(last)))
        };
        let role = match id {
            1 => "admin",
            _ if id % 1000 == 1 => "moderator",
            _ if id % 100 == 0 => "manager",
            _ => "member",
        };
        if role == "manager" {
            managers.push(id);
        }
        let title = if (2..=leaders(people) + 1).contains(&id) {
            LEADERS[id as usize - 2].to_owned()
        } else {
            format!("{} {}", DEPARTMENTS[department].0, rng.pick(&TITLES))
        };
        let bio = if rng.chance(0.2) { random::text(&mut rng, &vocabulary, 8) } else { String::new() };
        rows.push([
            Arg::Int(id as i64),
            Arg::Text(username.clone()),
            Arg::Text(format!("{username}@example.com")),
            Arg::Text(display_name),
            Arg::Text(password_hash.to_owned()),
            Arg::Text(role.to_owned()),
            Arg::Text(title),
            Arg::Text(DEPARTMENTS[department].0.to_owned()),
            Arg::Text(rng.pick(&LOCATIONS).to_string()),
            Arg::Text(bio),
            Arg::Int(now - 3 * 365 * DAY + rng.below(3 * 365 * DAY as u64) as i64),
        ]);
        usernames.push(username);
        if rows.is_full() {
            rows.flush(&mut tx).await?;
            progress.set(id as u64);
        }
    }
    if managers.is_empty() {
        managers.push(1);
    }
    finish(tx, &mut [&mut rows], written).await?;
    progress.done();

    let mut company = Company {
        people,
        usernames,
        popular,
        activity,
        communities: Vec::new(),
        managers,
        topics: vocabulary.iter().take(200).copied().collect(),
        vocabulary,
    };
    follows(run, &company, &department_of, written).await?;
    topic_follows(run, &company, written).await?;
    company.communities = communities(run, &company, written).await?;
    Ok(company)
}

/// Most people follow 20 to 200 others (log-scale, skewed low: a median near 45); one in fifty
/// follows 300 to 1,000; the leaders are followed by six people in ten. Four picks in ten are from
/// the follower's own department, the rest by popularity.
async fn follows(
    run: Seeding<'_>,
    company: &Company,
    department_of: &[u8],
    written: &mut Written,
) -> Result<(), sqlx::Error> {
    let Seeding { db, seed, now, .. } = run;
    let people = company.people;
    let mut rng = Rng::stream(seed, 2);
    let mut colleagues: Vec<Vec<u32>> = vec![Vec::new(); DEPARTMENTS.len()];
    for (i, d) in department_of.iter().enumerate() {
        colleagues[*d as usize].push(i as u32 + 1);
    }
    let mut progress = Progress::start("follows", people as u64);
    let mut rows = Rows::new("follows", "INSERT INTO follows (follower_id, followee_id, created_at)", 3);
    let mut tx = begin(db).await?;
    let mut chosen: HashSet<u32> = HashSet::new();
    let mut sorted = Vec::new();
    for follower in 1..=people {
        chosen.clear();
        for leader in 2..=company.leaders() + 1 {
            if leader != follower && rng.chance(0.6) {
                chosen.insert(leader);
            }
        }
        let wanted =
            if rng.chance(0.02) { rng.log_between(300.0, 1000.0, 1.0) } else { rng.log_between(20.0, 200.0, 1.5) };
        let wanted = (wanted as usize).min(people as usize - 1);
        let own = &colleagues[department_of[follower as usize - 1] as usize];
        let mut attempts = 0;
        while chosen.len() < wanted && attempts < wanted * 4 {
            attempts += 1;
            let followee = if rng.chance(0.4) { *rng.pick(own) } else { company.someone(&mut rng, 3.0) };
            if followee != follower {
                chosen.insert(followee);
            }
        }
        sorted.clear();
        sorted.extend(chosen.iter().copied());
        sorted.sort_unstable();
        for &followee in &sorted {
            rows.push([
                Arg::Int(follower as i64),
                Arg::Int(followee as i64),
                Arg::Int(now - rng.below(2 * 365 * DAY as u64) as i64),
            ]);
            if rows.is_full() {
                rows.flush(&mut tx).await?;
                progress.set(follower as u64);
                tx = renew(db, tx, &rows).await?;
            }
        }
    }
    finish(tx, &mut [&mut rows], written).await?;
    // Bulk rows bypass follows::store::follow, which keeps the counts on each follow.
    crate::follows::store::recount_all(&mut &*db).await?;
    progress.done();
    Ok(())
}

/// One person in twenty follows one to three topics.
async fn topic_follows(run: Seeding<'_>, company: &Company, written: &mut Written) -> Result<(), sqlx::Error> {
    let Seeding { db, seed, now, .. } = run;
    let mut rng = Rng::stream(seed, 3);
    let progress = Progress::start("topic follows", 1);
    let mut rows = Rows::new("topic follows", "INSERT INTO topic_follows (user_id, topic, created_at)", 3);
    let mut tx = begin(db).await?;
    for user in 1..=company.people {
        if !rng.chance(0.05) {
            continue;
        }
        let mut topics: Vec<usize> =
            (0..1 + rng.below(3)).map(|_| rng.below(company.topics.len() as u64) as usize).collect();
        topics.sort_unstable();
        topics.dedup();
        for topic in topics {
            rows.push([
                Arg::Int(user as i64),
                Arg::Text(company.topics[topic].to_owned()),
                Arg::Int(now - rng.below(365 * DAY as u64) as i64),
            ]);
        }
        if rows.is_full() {
            rows.flush(&mut tx).await?;
        }
    }
    finish(tx, &mut [&mut rows], written).await?;
    progress.done();
    Ok(())
}

/// Communities from a few very large ones (a tenth of the company) to many of a few dozen people;
/// every tenth is private. The first member made it and is its admin.
async fn communities(
    run: Seeding<'_>,
    company: &Company,
    written: &mut Written,
) -> Result<Vec<Community>, sqlx::Error> {
    let Seeding { db, size, seed, now } = run;
    let mut rng = Rng::stream(seed, 4);
    let mut progress = Progress::start("communities", size.communities as u64);
    let mut communities = Vec::with_capacity(size.communities as usize);
    let mut slugs: HashMap<String, u32> = HashMap::new();
    let mut rows = Rows::new(
        "communities",
        with_ids!(
            db.engine(),
            "INSERT INTO communities (id, slug, name, description, is_private, created_by, created_at)"
        ),
        7,
    );
    let mut members = Rows::new(
        "community members",
        "INSERT INTO community_members (community_id, user_id, is_admin, created_at)",
        4,
    );
    let mut tx = begin(db).await?;
    for id in 1..=size.communities {
        let private = id % 10 == 3;
        let wanted = (10 + company.people / (10 * id)).min(company.people) as usize;
        let mut chosen: HashSet<u32> = HashSet::with_capacity(wanted);
        let mut list = Vec::with_capacity(wanted);
        while list.len() < wanted {
            let person = 1 + rng.below(company.people as u64) as u32;
            if chosen.insert(person) {
                list.push(person);
            }
        }
        let (a, b) = (company.vocabulary[rng.zipf(150)], company.vocabulary[rng.zipf(company.vocabulary.len())]);
        let base = format!("{a}-{b}");
        let n = slugs.entry(base.clone()).or_insert(0);
        *n += 1;
        let slug = if *n == 1 { base } else { format!("{base}-{n}") };
        let created = now - 365 * DAY - rng.below(365 * DAY as u64) as i64;
        rows.push([
            Arg::Int(id as i64),
            Arg::Text(slug),
            Arg::Text(format!("{} {}", capitalised(a), b)),
            Arg::Text(random::text(&mut rng, &company.vocabulary, 12)),
            Arg::Bool(private),
            Arg::Int(list[0] as i64),
            Arg::Int(created),
        ]);
        rows.flush(&mut tx).await?;
        for (i, person) in list.iter().enumerate() {
            members.push([
                Arg::Int(id as i64),
                Arg::Int(*person as i64),
                Arg::Bool(i == 0),
                Arg::Int(created + rng.below(300 * DAY as u64) as i64),
            ]);
            if members.is_full() {
                members.flush(&mut tx).await?;
            }
        }
        members.flush(&mut tx).await?;
        progress.set(id as u64);
        communities.push(Community { members: list, private });
    }
    finish(tx, &mut [&mut rows, &mut members], written).await?;
    progress.done();
    Ok(communities)
}
