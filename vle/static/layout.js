/* The page's frame, on every page.
 *
 * 1. The phone header: the language form and the account links (name, My data,
 *    Change password, Log out) fold behind one disclosure button, so the page
 *    starts near the top of a small screen. Only at narrow widths (vle.css hides
 *    the button elsewhere); the button says whether the part is open
 *    (aria-expanded), and everything in it is reachable by keyboard and screen
 *    reader once opened. Without this file the button stays hidden and the
 *    header shows everything, wrapped.
 * 2. The quiz's status bar sticks to the top of the window only while it takes
 *    at most a third of the window's height (at 400 % zoom, 320 × 180, it would
 *    take half), and then the page's scroll padding follows its height, so it
 *    never covers the focused element. Without this file it does not stick
 *    (quiz.css): its height would be a guess.
 * 3. A link or button in a table's scrolling box (.table-wrap) that gets the focus
 *    is scrolled fully into the box, its focus ring too (the box's scroll
 *    padding): Chromium leaves a half-shown element where it is. */
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
    var fit = function () {
      var stick = bar.offsetHeight <= window.innerHeight / 3;
      root.style.setProperty("--sticky-bar-height", bar.offsetHeight + "px");
      root.classList.toggle("sticky-bar", stick);
    };
    new ResizeObserver(fit).observe(bar);
    window.addEventListener("resize", fit);
  }

  document.addEventListener("focusin", function (event) {
    var target = event.target;
    if (target.closest && target.closest(".table-wrap") && !target.classList.contains("table-wrap")) {
      target.scrollIntoView({block: "nearest", inline: "nearest"});
    }
  });
}());
