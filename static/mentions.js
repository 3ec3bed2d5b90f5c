// @mention suggestions for every text box marked `data-mentions`: typing "@an" lists matching people
// below the box (the ARIA combobox pattern: arrows move, Enter or Tab picks, Escape closes), and a
// pick writes "@username ". Without this script the box is a plain text box and mentions still work.
let counter = 0;

function attach(box) {
  const list = document.createElement("ul");
  list.id = `mentions-${++counter}`;
  list.className = "mention-list";
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", "People to mention");
  list.hidden = true;
  box.insertAdjacentElement("afterend", list);
  box.setAttribute("role", "combobox");
  box.setAttribute("aria-autocomplete", "list");
  box.setAttribute("aria-expanded", "false");
  box.setAttribute("aria-controls", list.id);

  let people = [];
  let active = -1;
  let timer = 0;
  let asked = 0;

  // The "@word" just before the caret, if the caret is at its end.
  const typed = () => {
    const before = box.value.slice(0, box.selectionStart);
    const match = /(^|[^\w@])@([A-Za-z0-9_]{1,30})$/.exec(before);
    return match ? { word: match[2], start: before.length - match[2].length - 1 } : null;
  };

  const close = () => {
    list.hidden = true;
    list.replaceChildren();
    people = [];
    active = -1;
    box.setAttribute("aria-expanded", "false");
    box.removeAttribute("aria-activedescendant");
  };

  const highlight = (index) => {
    active = index;
    [...list.children].forEach((item, i) => item.setAttribute("aria-selected", String(i === index)));
    if (index >= 0) box.setAttribute("aria-activedescendant", `${list.id}-${index}`);
    else box.removeAttribute("aria-activedescendant");
  };

  const pick = (index) => {
    const at = typed();
    const person = people[index];
    if (!at || !person) return close();
    const after = box.value.slice(box.selectionStart);
    const text = `@${person.username} `;
    box.value = box.value.slice(0, at.start) + text + after;
    const caret = at.start + text.length;
    box.setSelectionRange(caret, caret);
    box.dispatchEvent(new Event("input", { bubbles: true }));
    close();
  };

  const show = (found) => {
    people = found;
    if (found.length === 0) return close();
    list.replaceChildren(...found.map((person, i) => {
      const item = document.createElement("li");
      item.id = `${list.id}-${i}`;
      item.setAttribute("role", "option");
      const name = document.createElement("strong");
      name.textContent = person.name;
      item.append(name, ` @${person.username}`);
      // mousedown, not click: the box must keep its caret (click comes after the box lost focus).
      item.addEventListener("mousedown", (event) => { event.preventDefault(); pick(i); });
      return item;
    }));
    list.hidden = false;
    box.setAttribute("aria-expanded", "true");
    highlight(0);
  };

  box.addEventListener("input", () => {
    clearTimeout(timer);
    const at = typed();
    if (!at) return close();
    timer = setTimeout(async () => {
      const ask = ++asked;
      try {
        const response = await fetch(`/people/suggest?q=${encodeURIComponent(at.word)}`, {
          headers: { accept: "application/json" },
        });
        if (!response.ok || ask !== asked) return;
        show(await response.json());
      } catch {
        close();
      }
    }, 120);
  });

  box.addEventListener("keydown", (event) => {
    if (list.hidden) return;
    if (event.key === "ArrowDown") {
      event.preventDefault();
      highlight((active + 1) % people.length);
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      highlight((active - 1 + people.length) % people.length);
    } else if ((event.key === "Enter" || event.key === "Tab") && active >= 0) {
      event.preventDefault();
      pick(active);
    } else if (event.key === "Escape") {
      event.preventDefault();
      close();
    }
  });
  box.addEventListener("blur", () => setTimeout(close, 150));
}

document.querySelectorAll("textarea[data-mentions]").forEach(attach);
