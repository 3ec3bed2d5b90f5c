// The header's menu is a <details>. On wide screens the stylesheet shows its contents in the header
// line while it is closed; opening it here too keeps what scripts, assistive technology and browser
// automation see in step with what is on the screen. Narrowing the window folds it again.
const menu = document.querySelector(".site-menu");
const wide = window.matchMedia("(min-width: 60rem)");
if (menu && CSS.supports("selector(::details-content)")) {
  const follow = () => { menu.open = wide.matches; };
  follow();
  wide.addEventListener("change", follow);
}
