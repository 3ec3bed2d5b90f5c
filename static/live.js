// Live updates over server-sent events: a "N new posts" banner on feeds and a live notification
// count. Pages work the same without it (a reload shows everything).
const feedList = document.querySelector("[data-live-feed]");
const feed = feedList ? feedList.dataset.liveFeed : "";
function listen() {
  const events = new EventSource(`/events?feed=${encodeURIComponent(feed)}`);
  // Marks the page as listening (tests and curious people can tell the stream is open).
  events.addEventListener("open", () => { document.documentElement.dataset.live = "open"; });
  events.addEventListener("posts", (event) => {
    let banner = document.querySelector("#new-posts");
    if (!banner) {
      banner = document.createElement("p");
      banner.id = "new-posts";
      banner.className = "new-posts";
      banner.setAttribute("role", "status");
      const link = document.createElement("a");
      link.href = window.location.pathname;
      banner.append(link);
      feedList.insertAdjacentElement("beforebegin", banner);
    }
    const count = Number(event.data);
    banner.firstChild.textContent = count === 1 ? "1 new post: show it" : `${count} new posts: show them`;
  });
  events.addEventListener("notifications", (event) => {
    // The badge's text as the server shows it ("3", "99+"); "0" takes it away. The menu button
    // carries it too, for phones where the menu is folded.
    showBadge(document.querySelector("#notifications-link"), event.data, "unread");
    showBadge(document.querySelector(".site-menu > summary"), event.data, "unread notifications");
  });
  return events;
}

function showBadge(holder, shown, words) {
  if (!holder) return;
  let badge = holder.querySelector(".badge");
  if (shown === "0") {
    if (badge) badge.remove();
    return;
  }
  if (!badge) {
    badge = document.createElement("span");
    badge.className = "badge";
    holder.append(" ", badge);
  }
  badge.textContent = shown;
  badge.setAttribute("aria-label", `${shown} ${words}`);
}

if (document.querySelector("#notifications-link") && "EventSource" in window) {
  let events = listen();
  // A page left for another must close its stream: browsers keep pages in the back/forward cache
  // with their connections, and allow six per site, so a few clicks would stall every request.
  window.addEventListener("pagehide", () => events.close());
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) events = listen();
  });
}
