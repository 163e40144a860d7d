// "Show key": a checkbox that shows a password-type field's text while it is
// ticked. It is hidden in the page and shown here, so without JavaScript the
// field is an ordinary password field with nothing that does not work.
"use strict";
document.querySelectorAll("input[type=checkbox][data-reveals]").forEach((box) => {
  const field = document.getElementById(box.dataset.reveals);
  if (!field) return;
  box.parentElement.hidden = false;
  box.checked = false;
  box.addEventListener("change", () => {
    field.type = box.checked ? "text" : "password";
  });
});
