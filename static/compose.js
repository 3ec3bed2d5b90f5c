// Enhances the compose box with a live character count; the form works the same without it.
for (const box of document.querySelectorAll("textarea[data-max-chars]")) {
  const max = Number(box.dataset.maxChars);
  const counter = document.createElement("p");
  counter.className = "counter";
  counter.setAttribute("aria-live", "polite");
  box.insertAdjacentElement("afterend", counter);
  const update = () => {
    const left = max - [...box.value].length;
    counter.textContent = `${left} characters left`;
    counter.classList.toggle("over", left < 0);
  };
  box.addEventListener("input", update);
  update();
}
