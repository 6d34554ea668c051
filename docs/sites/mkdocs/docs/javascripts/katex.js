// Typeset what pymdownx.arithmatex (generic: true) leaves: \( ... \) in a
// span.arithmatex, \[ ... \] in a div.arithmatex.
document.addEventListener("DOMContentLoaded", function () {
  for (const element of document.querySelectorAll(".arithmatex")) {
    const tex = element.textContent.trim();
    katex.render(tex.slice(2, -2), element, {
      displayMode: tex.startsWith("\\["),
      throwOnError: false,
    });
  }
});
