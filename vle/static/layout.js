/* The page's frame, on every page.
 *
 * 1. The phone header: the language form and the account links (name, My data,
 *    Change password, Log out) fold behind one disclosure button, so the page
 *    starts near the top of a small screen. Only at narrow widths (vle.css hides
 *    the button elsewhere); the button says whether the part is open
 *    (aria-expanded), and everything in it is reachable by keyboard and screen
 *    reader once opened. Without this file the button stays hidden and the
 *    header shows everything, wrapped.
 * 2. A sticky bar (the quiz's status bar) never covers the focused element: the
 *    page's scroll padding follows the bar's height (vle.css has a fixed guess
 *    for pages without JavaScript). */
(function () {
  "use strict";

  var button = document.querySelector(".header-toggle");
  if (button) {
    var header = button.closest(".site-header");
    var show = function (open) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
      header.classList.toggle("header-open", open);
    };
    header.classList.add("header-folds");
    show(false);
    button.addEventListener("click", function () {
      show(button.getAttribute("aria-expanded") !== "true");
    });
  }

  var bar = document.querySelector(".quiz-status");
  if (bar && window.ResizeObserver) {
    var root = document.documentElement;
    new ResizeObserver(function () {
      root.style.setProperty("--sticky-bar-height", bar.offsetHeight + "px");
    }).observe(bar);
  }
}());
