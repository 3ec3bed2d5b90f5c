//! Homes are written in the background: a post's own transaction writes its author's home and queues
//! its audiences (someone 1,200 people follow, a topic or community of 1,200), and the server's
//! worker writes them soon after, a chunk per transaction, announcing each chunk to open pages.
//! Nobody in the audience is left out, nobody outside it is reached, and a post deleted before its
//! delivery ends reaches no home.

mod common;

use std::time::Duration;

use common::{Engine, Person, Stream, TestApp, post_ids};
use townhall::db::{Db, Exec, sql};
use townhall::timeline::store::{Audience, CHUNK, queue_delivery};

on_both_engines!(
    a_post_reaches_each_of_its_readers_after_its_transaction_queued_them,
    a_post_deleted_while_its_delivery_is_queued_reaches_no_home,
);

/// People made straight in the database: they only need to exist to have a home. The worker writes
/// each audience of theirs in several chunks.
const CROWD: i64 = 1_200;
const _: () = assert!(CROWD > 2 * CHUNK);

/// Adds `CROWD` people who follow `leader`, belong to `community` and follow `#packaging`.
async fn crowd(db: &Db, leader: i64, community: i64) {
    let mut tx = db.begin().await.unwrap();
    for n in 0..CROWD {
        let (id,): (i64,) = tx
            .fetch_one(
                sql("INSERT INTO users (username, email, display_name, password_hash, created_at)
                     VALUES ($1, $2, $3, 'not-a-hash', 0) RETURNING id")
                .bind(format!("crowd{n}"))
                .bind(format!("crowd{n}@example.com"))
                .bind(format!("Crowd {n}")),
            )
            .await
            .unwrap();
        for statement in [
            sql("INSERT INTO follows (follower_id, followee_id, created_at) VALUES ($1, $2, 0)").bind(id).bind(leader),
            sql("INSERT INTO community_members (community_id, user_id, created_at) VALUES ($2, $1, 0)")
                .bind(id)
                .bind(community),
            sql("INSERT INTO topic_follows (user_id, topic, created_at) VALUES ($1, 'packaging', 0)").bind(id),
        ] {
            tx.execute(statement).await.unwrap();
        }
    }
    tx.commit().await.unwrap();
}

/// Ana, whose community "All hands" the crowd belongs to; the crowd, who follow her and
/// #packaging; and Zed, who follows her too and comes last, so has the highest id: the last chunk of
/// every audience reaches him.
struct Company {
    app: TestApp,
    ana: Person,
    zed: Person,
    /// Ana's id.
    leader: i64,
    community: i64,
}

async fn company(engine: Engine) -> Company {
    let app = TestApp::spawn(engine).await;
    let ana = app.signed_up("ana").await;
    let created =
        ana.post("/communities/new", &[("name", "All hands"), ("slug", "all-hands"), ("visibility", "public")]).await;
    assert_eq!(created.status, 303, "{}", created.body);
    let leader = id_of(&app.db, "ana").await;
    let (community,): (i64,) =
        app.db.clone().fetch_one(sql("SELECT id FROM communities WHERE slug = 'all-hands'")).await.unwrap();
    crowd(&app.db, leader, community).await;
    let zed = app.signed_up("zed").await;
    zed.post("/people/ana/follow", &[]).await;
    Company { app, ana, zed, leader, community }
}

async fn id_of(db: &Db, username: &str) -> i64 {
    let (id,): (i64,) =
        db.clone().fetch_one(sql("SELECT id FROM users WHERE username = $1").bind(username)).await.unwrap();
    id
}

async fn homes_with(db: &Db, post_id: i64) -> i64 {
    let (count,): (i64,) = db
        .clone()
        .fetch_one(sql("SELECT CAST(COUNT(*) AS BIGINT) FROM timeline WHERE post_id = $1").bind(post_id))
        .await
        .unwrap();
    count
}

async fn a_post_reaches_each_of_its_readers_after_its_transaction_queued_them(engine: Engine) {
    let Company { app, ana, zed, leader, community } = company(engine).await;
    let bo = app.signed_up("bo").await;

    // In the posting transaction itself: the author's home written, each audience queued.
    let mut tx = app.db.begin().await.unwrap();
    let (post_id,): (i64,) = tx
        .fetch_one(
            sql("INSERT INTO posts (author_id, body, mentions, created_at, community_id)
                 VALUES ($1, 'rolled back', '', 0, $2) RETURNING id")
            .bind(leader)
            .bind(community),
        )
        .await
        .unwrap();
    let audience = Audience { community_id: Some(community), members_only: None };
    queue_delivery(&mut tx, post_id, leader, &["packaging".to_owned()], audience).await.unwrap();
    let written: Vec<(i64,)> =
        tx.fetch_all(sql("SELECT user_id FROM timeline WHERE post_id = $1").bind(post_id)).await.unwrap();
    assert_eq!(written, [(leader,)], "ana's own home only");
    let (queued,): (i64,) = tx
        .fetch_one(sql("SELECT CAST(COUNT(*) AS BIGINT) FROM deliveries WHERE post_id = $1").bind(post_id))
        .await
        .unwrap();
    assert_eq!(queued, 3, "followers, the topic and the community each wait for the worker");
    drop(tx);

    // Through the server: every follower's home, the last one told on his open page.
    let mut zed_home = Stream::open(&zed, "home").await;
    ana.write_post("Town hall on Friday").await;
    let town_hall = post_ids(&ana.get("/").await.body)[0];
    app.delivered().await;
    assert_eq!(homes_with(&app.db, town_hall).await, 1 + CROWD + 1, "ana, the crowd and zed");
    zed_home.expect("event: posts\ndata: 1\n").await;
    assert!(zed.get("/").await.contains("Town hall on Friday"));
    assert!(!bo.get("/").await.contains("Town hall on Friday"), "bo does not follow ana");

    // A topic's followers, whoever writes.
    bo.write_post("Refill stations for #packaging").await;
    let refill = post_ids(&bo.get("/").await.body)[0];
    app.delivered().await;
    assert_eq!(homes_with(&app.db, refill).await, 1 + CROWD, "bo and the crowd; not ana, not zed");
    assert!(!zed.get("/").await.contains("Refill stations"));

    // A community's members (and the author's followers, zed among them).
    let posted = ana.post("/c/all-hands/posts", &[("body", "Agenda for all hands")]).await;
    assert_eq!(posted.status, 303, "{}", posted.body);
    let agenda = post_ids(&ana.get("/c/all-hands").await.body)[0];
    app.delivered().await;
    assert_eq!(homes_with(&app.db, agenda).await, 1 + CROWD + 1);
    zed_home.expect("event: posts\ndata: 2\n").await;
}

async fn a_post_deleted_while_its_delivery_is_queued_reaches_no_home(engine: Engine) {
    let Company { app, ana, zed, leader, community: _ } = company(engine).await;

    // Through the server: deleted at once, while the worker may be anywhere in its chunks.
    ana.write_post("Posted to the wrong audience").await;
    let wrong = post_ids(&ana.get("/").await.body)[0];
    let deleted = ana.post(&format!("/posts/{wrong}/delete"), &[]).await;
    assert_eq!(deleted.status, 303, "{}", deleted.body);
    app.delivered().await;
    assert_eq!(homes_with(&app.db, wrong).await, 0);
    assert!(!zed.get("/").await.contains("Posted to the wrong audience"));

    // The same with the order fixed: a post that has replies stays as a "deleted" mark, and taking
    // it out of homes also empties its queue, in the deleting transaction.
    let post = |body: &'static str| {
        sql("INSERT INTO posts (author_id, body, mentions, created_at) VALUES ($1, $2, '', 0) RETURNING id")
            .bind(leader)
            .bind(body)
    };
    let mut tx = app.db.begin().await.unwrap();
    let (answered,): (i64,) = tx.fetch_one(post("answered, then deleted")).await.unwrap();
    queue_delivery(&mut tx, answered, leader, &[], Audience::default()).await.unwrap();
    townhall::timeline::store::withdraw(&mut tx, answered).await.unwrap();
    let (queued,): (i64,) = tx.fetch_one(sql("SELECT CAST(COUNT(*) AS BIGINT) FROM deliveries")).await.unwrap();
    assert_eq!(queued, 0);
    tx.commit().await.unwrap();

    // Deleting a post while a chunk of its delivery is being written (on PostgreSQL, where the two
    // run at once). This transaction plays the worker: it claims the queued delivery, the deletion
    // arrives, and only then does the chunk write its first home row (whose foreign key locks the
    // post). Deleting the post before emptying its queue deadlocked here, and the person deleting got
    // a 500. The queue row is written without waking the worker, which looks only once a second.
    if engine == Engine::Postgres {
        let mut tx = app.db.begin().await.unwrap();
        let (during,): (i64,) = tx.fetch_one(post("deleted during a chunk")).await.unwrap();
        queue_delivery(&mut tx, during, leader, &[], Audience::default()).await.unwrap();
        tx.commit().await.unwrap();
        let mut worker = app.db.begin().await.unwrap();
        let claimed = worker
            .execute(sql("UPDATE deliveries SET next_user_id = next_user_id WHERE post_id = $1").bind(during))
            .await
            .unwrap();
        assert_eq!(claimed, 1, "the post's delivery is queued");
        let deleting = {
            let ana = Person { client: ana.client.clone(), base: ana.base.clone() };
            tokio::spawn(async move { ana.post(&format!("/posts/{during}/delete"), &[]).await })
        };
        tokio::time::sleep(Duration::from_millis(500)).await;
        let chunk = worker
            .execute(
                sql("INSERT INTO timeline (user_id, post_id)
                     SELECT f.follower_id, $1 FROM follows f WHERE f.followee_id = $2
                     ORDER BY f.follower_id DESC LIMIT 10 ON CONFLICT DO NOTHING")
                .bind(during)
                .bind(leader),
            )
            .await;
        assert!(chunk.is_ok(), "the chunk goes on while the deletion waits: {chunk:?}");
        worker.commit().await.unwrap();
        let deleted = deleting.await.unwrap();
        assert_eq!(deleted.status, 303, "{}", deleted.body);
        app.delivered().await;
        assert_eq!(homes_with(&app.db, during).await, 0);
    }

    // And should a queued delivery outlive its post's deletion, its chunks reach nobody.
    let mut tx = app.db.begin().await.unwrap();
    let (orphan,): (i64,) = tx.fetch_one(post("deleted behind the queue's back")).await.unwrap();
    queue_delivery(&mut tx, orphan, leader, &[], Audience::default()).await.unwrap();
    tx.execute(sql("UPDATE posts SET deleted_at = 1 WHERE id = $1").bind(orphan)).await.unwrap();
    tx.execute(sql("DELETE FROM timeline WHERE post_id = $1").bind(orphan)).await.unwrap();
    tx.commit().await.unwrap();
    app.delivered().await;
    assert_eq!(homes_with(&app.db, orphan).await, 0);
}
