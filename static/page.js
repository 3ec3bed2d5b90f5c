// Small behaviours every page shares; each does nothing where its markup is absent.

// --- The header's menu is a <details>. On wide screens the stylesheet shows its contents in the
// header line while it is closed; opening it here too keeps what scripts, assistive technology and browser
// automation see in step with what is on the screen. Narrowing the window folds it again.
const menu = document.querySelector(".site-menu");
const wide = window.matchMedia("(min-width: 60rem)");
if (menu && CSS.supports("selector(::details-content)")) {
  const follow = () => { menu.open = wide.matches; };
  follow();
  wide.addEventListener("change", follow);
}

// --- Copy buttons beside one-time links: shown only when scripts run (the link's field is selectable
// without them). The Clipboard API needs a secure origin; elsewhere the older copy command serves.
for (const button of document.querySelectorAll('button[data-copy]')) {
  const field = document.getElementById(button.dataset.copy);
  if (!field) continue;
  button.hidden = false;
  button.addEventListener('click', async () => {
    let copied = false;
    try {
      await navigator.clipboard.writeText(field.value);
      copied = true;
    } catch {
      field.select();
      copied = document.execCommand('copy');
    }
    button.textContent = copied ? 'Copied' : 'Select and copy';
    if (!copied) field.select();
  });
}

// --- After a refused form: the error summary (or else the first field in error) takes the focus,
// so keyboard and screen reader users start where the problem is.
const problem = document.querySelector(".form-error") ?? document.querySelector('[aria-invalid="true"]');
if (problem) {
  if (!problem.matches("input, textarea, select")) problem.setAttribute("tabindex", "-1");
  problem.focus();
}
