//! `townhall seed`: a generated company whose counts add up, whose homes follow the delivery rule,
//! which the same seed reproduces, and in which its people can sign in and read.

mod common;

use common::{Engine, Person, TestApp};
use townhall::db::{Db, Exec, sql};
use townhall::seed::{SeedError, Size, run};

const PASSWORD: &str = "seed password";

async fn seeded(engine: Engine, seed: u64) -> TestApp {
    let app = TestApp::spawn(engine).await;
    let hash = townhall::accounts::hash_password(townhall::accounts::Password::parse(PASSWORD).unwrap()).await.unwrap();
    run(&app.db, &Size::for_people(300), seed, &hash).await.expect("seeding an empty database");
    app
}

async fn count(db: &Db, query: &'static str) -> i64 {
    let (n,): (i64,) = db.clone().fetch_one(sql(query)).await.unwrap();
    n
}

on_both_engines!(a_seeded_company_adds_up_and_can_be_used, the_same_seed_gives_the_same_company);

async fn a_seeded_company_adds_up_and_can_be_used(engine: Engine) {
    let app = seeded(engine, 1).await;
    let db = &app.db;
    assert_eq!(count(db, "SELECT COUNT(*) FROM users").await, 300);
    assert_eq!(count(db, "SELECT COUNT(*) FROM posts").await, 3_000);
    assert!(count(db, "SELECT COUNT(*) FROM follows").await > 300 * 20);
    assert!(count(db, "SELECT COUNT(*) FROM idea_votes").await > 0);
    // Stored counts equal the rows they count.
    let wrong = [
        "SELECT COUNT(*) FROM posts p WHERE p.parent_id IS NULL
           AND p.reply_count <> (SELECT COUNT(*) FROM posts r WHERE r.root_id = p.id)",
        "SELECT COUNT(*) FROM posts p WHERE p.like_count <> (SELECT COUNT(*) FROM likes l WHERE l.post_id = p.id)",
        "SELECT COUNT(*) FROM ideas i WHERE i.vote_count <> (SELECT COUNT(*) FROM idea_votes v WHERE v.idea_id = i.id)",
        "SELECT COUNT(*) FROM ideas i
           WHERE i.comment_count <> (SELECT COUNT(*) FROM idea_comments c WHERE c.idea_id = i.id)",
        "SELECT COUNT(*) FROM users u
           WHERE u.follower_count <> (SELECT COUNT(*) FROM follows f WHERE f.followee_id = u.id)
              OR u.following_count <> (SELECT COUNT(*) FROM follows f WHERE f.follower_id = u.id)",
        // a private community's posts come from its members
        "SELECT COUNT(*) FROM posts p WHERE p.members_only IS NOT NULL AND NOT EXISTS
           (SELECT 1 FROM community_members m WHERE m.community_id = p.members_only AND m.user_id = p.author_id)",
    ];
    for query in wrong {
        assert_eq!(count(db, query).await, 0, "{query}");
    }
    // Homes hold exactly what posting would have delivered.
    let delivered = count(
        db,
        "SELECT COUNT(*) FROM (
           SELECT p.author_id AS user_id, p.id AS post_id FROM posts p
            WHERE p.parent_id IS NULL AND p.members_only IS NULL
           UNION SELECT f.follower_id, p.id FROM follows f JOIN posts p ON p.author_id = f.followee_id
            WHERE p.parent_id IS NULL AND p.members_only IS NULL
           UNION SELECT tf.user_id, pt.post_id FROM topic_follows tf JOIN post_topics pt ON pt.topic = tf.topic
             JOIN posts p ON p.id = pt.post_id WHERE p.parent_id IS NULL AND p.members_only IS NULL
           UNION SELECT m.user_id, p.id FROM community_members m JOIN posts p ON p.community_id = m.community_id
            WHERE p.parent_id IS NULL) rule",
    )
    .await;
    assert!(delivered > 0);
    assert_eq!(count(db, "SELECT COUNT(*) FROM timeline").await, delivered);
    let (rogue,): (i64,) = db
        .clone()
        .fetch_one(sql("SELECT COUNT(*) FROM timeline t JOIN posts p ON p.id = t.post_id
                        WHERE p.members_only IS NOT NULL AND NOT EXISTS
                          (SELECT 1 FROM community_members m WHERE m.community_id = p.members_only AND m.user_id = t.user_id)"))
        .await
        .unwrap();
    assert_eq!(rogue, 0, "a private post reached a non-member's home");

    // A second seed into the same database is refused.
    assert!(matches!(run(db, &Size::for_people(300), 1, "x").await, Err(SeedError::NotEmpty)));

    // Seeded people sign in with the password and read their home and an open campaign; new rows
    // get new ids after the seeded ones.
    let (username,): (String,) = db
        .clone()
        .fetch_one(sql("SELECT u.username FROM users u WHERE EXISTS (SELECT 1 FROM timeline t WHERE t.user_id = u.id)
                        AND u.id > 1 ORDER BY u.id LIMIT 1"))
        .await
        .unwrap();
    let person = Person::new(&app.base);
    assert_eq!(person.sign_in(&username, PASSWORD).await.status, 303);
    let home = person.get("/").await;
    assert!(home.status == 200 && home.body.contains("<article"), "{}", home.status);
    let (campaign,): (i64,) = db
        .clone()
        .fetch_one(sql("SELECT id FROM campaigns WHERE status = 'published' AND community_id IS NULL
                        ORDER BY closes_at DESC LIMIT 1"))
        .await
        .unwrap();
    assert!(person.get(&format!("/campaigns/{campaign}")).await.body.contains("Submit an idea"));
    let posted = person.post("/posts", &[("body", "Written after seeding")]).await;
    assert_eq!(posted.status, 303);
    assert_eq!(count(db, "SELECT MAX(id) FROM posts").await, 3_001);
}

async fn the_same_seed_gives_the_same_company(engine: Engine) {
    let fingerprint = |db: Db| async move {
        let mut db = db;
        let people: (i64, i64) =
            db.fetch_one(sql("SELECT COUNT(*), CAST(SUM(LENGTH(username) * id) AS BIGINT) FROM users")).await.unwrap();
        let posts: (i64, i64, i64) = db
            .fetch_one(sql("SELECT CAST(SUM(LENGTH(body) * id) AS BIGINT), CAST(SUM(author_id * id) AS BIGINT), CAST(SUM(COALESCE(parent_id, 0) * id) AS BIGINT) FROM posts"))
            .await
            .unwrap();
        let follows: (i64, i64) = db
            .fetch_one(sql("SELECT COUNT(*), CAST(SUM(follower_id * followee_id) AS BIGINT) FROM follows"))
            .await
            .unwrap();
        let votes: (i64, i64) =
            db.fetch_one(sql("SELECT COUNT(*), CAST(SUM(idea_id * user_id) AS BIGINT) FROM idea_votes")).await.unwrap();
        (people, posts, follows, votes)
    };
    let (a, b, c) = (seeded(engine, 7).await, seeded(engine, 7).await, seeded(engine, 8).await);
    let first = fingerprint(a.db.clone()).await;
    assert_eq!(first, fingerprint(b.db.clone()).await);
    assert_ne!(first, fingerprint(c.db.clone()).await);
}
