/* The lesson and link editor: Preview shows the server's rendering (the
 * one sanitising policy, exactly as learners will get it) in the page's
 * live region without reloading. Without this file the Preview button posts
 * the form and the page comes back with the preview below. */
(function () {
  "use strict";

  var form = document.getElementById("item-form");
  var button = document.getElementById("preview-button");
  var target = document.getElementById("preview");
  if (!form || !button || !target || !window.fetch || !window.FormData) { return; }

  var url = form.getAttribute("data-preview-url");

  button.addEventListener("click", function (event) {
    event.preventDefault();
    var data = new FormData();
    data.append("csrf_token", form.querySelector("input[name=csrf_token]").value);
    data.append("source", form.querySelector("textarea[name=source]").value);
    button.disabled = true;
    fetch(url, { method: "POST", body: data, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.text();
      })
      .then(function (html) {
        // The server sanitised it (vle/sanitize.py): what learners would see.
        target.innerHTML = html;
      })
      .catch(function () {
        // Fall back to the page's own preview: post the form.
        var input = document.createElement("input");
        input.type = "hidden";
        input.name = "action";
        input.value = "preview";
        form.appendChild(input);
        form.submit();
      })
      .then(function () { button.disabled = false; });
  });
})();
