// While someone types an idea's title, lists similar ideas of the campaign so they can vote for one
// instead. Without JavaScript the form shows the same list after a first submit.
const form = document.querySelector("form[data-similar-url]");
const title = form && form.querySelector("#title");
if (title) {
  const box = document.createElement("div");
  box.id = "similar-live";
  box.className = "similar";
  box.hidden = true;
  box.setAttribute("aria-live", "polite");
  title.insertAdjacentElement("afterend", box);
  let timer;
  title.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const text = title.value.trim();
      if (text.length < 4) { box.hidden = true; return; }
      const response = await fetch(`${form.dataset.similarUrl}?title=${encodeURIComponent(text)}`);
      if (!response.ok) return;
      const ideas = await response.json();
      box.replaceChildren();
      if (ideas.length === 0) { box.hidden = true; return; }
      const heading = document.createElement("p");
      heading.textContent = "Similar ideas already here. Vote for one if it says what you mean:";
      const list = document.createElement("ul");
      for (const idea of ideas) {
        const item = document.createElement("li");
        const link = document.createElement("a");
        link.href = `/ideas/${idea.id}`;
        link.textContent = idea.title;
        item.append(link);
        if (idea.votes !== null) item.append(` (${idea.votes} ${idea.votes === 1 ? "vote" : "votes"})`);
        list.append(item);
      }
      box.append(heading, list);
      box.hidden = false;
    }, 250);
  });
}
