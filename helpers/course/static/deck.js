/* The decks' start-up script: helpers/course/slides.py builds the decks, web_assets copies this
   file next to them as _static/course/deck.js and the deck's template calls courseDeck.start.

   Before reveal.js starts, every slide is laid out at the deck's own size (960 × 700) once
   MathJax has typeset it and its pictures have loaded, and a slide taller than the deck is
   split where its content allows: between paragraphs, list items, formulas, outputs, table rows
   or lines of printed text, never inside a sentence. A heading or a sentence ending in ":"
   goes with what follows it. A slide that does not begin with the section's heading gets the
   section's title as a small header. A single picture taller than the room left is shrunk to
   fit; what cannot be split stays as it is (the browser test then reports it).

   The slides are one row (nbconvert nests each in a section of its own): →, ↓, Space,
   PageDown and N go to the next slide or fragment, ←, ↑, PageUp, P and Shift+Space back. */
(function () {
  "use strict";

  var WIDTH = 960;
  var HEIGHT = 700;
  var EPSILON = 1; // px of rounding allowed when comparing positions

  function slides() {
    return Array.prototype.slice.call(document.querySelectorAll(".reveal .slides > section"));
  }

  function children(element) {
    return Array.prototype.slice.call(element.children);
  }

  // nbconvert writes <section><section>…</section></section> for every slide: one level only.
  function flatten() {
    slides().forEach(function (outer) {
      var inner = children(outer).filter(function (e) { return e.tagName === "SECTION"; });
      if (!inner.length) return;
      inner.forEach(function (section) { outer.parentNode.insertBefore(section, outer); });
      outer.parentNode.removeChild(outer);
    });
  }

  function visible(element) {
    var box = element.getBoundingClientRect();
    return (box.height > 0 || box.width > 0) && (!element.checkVisibility || element.checkVisibility());
  }

  // The pieces a slide may be split between, in document order.
  function isBlock(element) {
    if (element.classList.contains("fragment")) return true;
    if (element.classList.contains("jp-OutputArea-child")) return true;
    if (element.classList.contains("jp-Cell-inputWrapper")) {
      return element.parentElement.classList.contains("jp-CodeCell");
    }
    var parent = element.parentElement;
    return Boolean(parent && parent.classList.contains("jp-RenderedMarkdown"));
  }

  function blocksOf(section) {
    var found = [];
    (function walk(element) {
      children(element).forEach(function (child) {
        if (child.matches("aside.notes, .course-continued, script, style")) return;
        if (isBlock(child)) {
          if (visible(child)) found.push(child);
        } else {
          walk(child);
        }
      });
    })(section);
    return found;
  }

  function isHeading(element) {
    return /^H[1-6]$/.test(element.tagName);
  }

  // Whether ``block`` goes to the next slide with ``next``, the block after it: a heading, code
  // with its output, a sentence ending in ":", and the prose that leads into a picture.
  function keepWithNext(block, next) {
    if (isHeading(block)) return true;
    if (block.classList.contains("jp-Cell-inputWrapper")) return true;
    if (block.tagName === "P" && /:\s*$/.test(block.textContent)) return true;
    var endsProse = block.parentElement.classList.contains("jp-RenderedMarkdown") &&
      !block.nextElementSibling;
    return endsProse && next.classList.contains("jp-OutputArea-child") && Boolean(next.querySelector("img"));
  }

  // A paragraph whose first word is plain text in lower case (not `code` or a formula).
  function continuesSentence(block) {
    if (block.tagName !== "P") return false;
    var first = Array.prototype.find.call(block.childNodes, function (n) {
      return n.nodeType === Node.ELEMENT_NODE || n.data.trim();
    });
    return Boolean(first) && first.nodeType === Node.TEXT_NODE && /^\s*[a-z]/.test(first.data);
  }

  // --- splitting one block that is taller than the room left for it ------------------------

  function textPosition(root, offset) {
    var walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    var node;
    while ((node = walker.nextNode())) {
      if (offset <= node.data.length) return { node: node, offset: offset };
      offset -= node.data.length;
    }
    return null;
  }

  // Cut ``block`` in two copies: the first keeps what comes before ``cut(copy)``'s position,
  // the second the rest. ``cut`` returns a Range over the part of its argument to delete.
  function cutInTwo(block, cutFirst, cutSecond) {
    var second = block.cloneNode(true);
    block.parentNode.insertBefore(second, block.nextSibling);
    cutFirst(block).deleteContents();
    cutSecond(second).deleteContents();
    return second;
  }

  function splitPre(block, pre, limit) {
    var text = pre.textContent;
    var style = getComputedStyle(pre);
    // below the last line: the printed block's own padding and border, and its wrappers'
    var slack = parseFloat(style.paddingBottom) + parseFloat(style.borderBottomWidth) +
      Math.max(0, block.getBoundingClientRect().bottom - pre.getBoundingClientRect().bottom);
    var ends = []; // after each line that is not blank: no part ends or starts on a blank line
    for (var i = 1; i < text.length - 1; i++) {
      if (text[i] === "\n" && text[i - 1] !== "\n") ends.push(i + 1);
    }
    var range = document.createRange();
    var cut = -1;
    ends.forEach(function (end) {
      var at = textPosition(pre, end - 1);
      range.setStart(pre, 0);
      range.setEnd(at.node, at.offset);
      if (range.getBoundingClientRect().bottom + slack <= limit) cut = end;
    });
    if (cut < 0) return null;
    var index = Array.prototype.indexOf.call(block.querySelectorAll("pre"), pre);
    var rest = text.slice(cut);
    var skip = rest.length - rest.replace(/^\n+/, "").length; // blank lines the rest opens with
    function rangeIn(copy, head) {
      var target = copy.querySelectorAll("pre")[index];
      var at = textPosition(target, head ? cut - 1 : cut + skip);
      var r = document.createRange();
      if (head) {
        r.setStart(at.node, at.offset);
        r.setEnd(target, target.childNodes.length);
      } else {
        r.setStart(target, 0);
        r.setEnd(at.node, at.offset);
      }
      return r;
    }
    return cutInTwo(
      block,
      function (copy) { return rangeIn(copy, true); },
      function (copy) { return rangeIn(copy, false); }
    );
  }

  // Split a list or a table between its items/rows: the first copy keeps those that fit.
  function splitRows(block, rowSelector, limit, keep) {
    var rows = Array.prototype.slice.call(block.querySelectorAll(rowSelector));
    var fits = 0;
    while (fits < rows.length && rows[fits].getBoundingClientRect().bottom <= limit) fits++;
    if (fits === 0 || fits === rows.length) return null;
    var second = block.cloneNode(true);
    block.parentNode.insertBefore(second, block.nextSibling);
    rows.slice(fits).forEach(function (row) { row.parentNode.removeChild(row); });
    Array.prototype.slice.call(second.querySelectorAll(rowSelector), 0, fits)
      .forEach(function (row) { row.parentNode.removeChild(row); });
    if (keep) keep(block, second, fits);
    return second;
  }

  function splittable(block) {
    if (block.classList.contains("fragment")) return false;
    return block.matches("ul, ol, table") || Boolean(block.querySelector("pre, table"));
  }

  // Returns the block's second part (now its next sibling), "again" when the block changed in
  // place (measure again), or null when it cannot be made to fit.
  function splitInside(block, limit) {
    if (block.classList.contains("fragment")) {
      block.classList.remove("fragment"); // too tall to appear at once: its parts are blocks
      return "again";
    }
    var pre = Array.prototype.slice.call(block.querySelectorAll("pre")).filter(function (p) {
      return p.getBoundingClientRect().bottom > limit;
    })[0];
    if (pre) return splitPre(block, pre, limit);
    if (block.matches("ul, ol")) {
      return splitRows(block, ":scope > li", limit, function (first, second, fits) {
        if (first.tagName === "OL") {
          second.setAttribute("start", String((parseInt(first.getAttribute("start"), 10) || 1) + fits));
        }
      });
    }
    if (block.matches("table") || block.querySelector("table")) {
      return splitRows(block, "tbody > tr", limit);
    }
    var pictures = block.querySelectorAll("img");
    if (pictures.length === 1 && !pictures[0].style.maxHeight) {
      var img = pictures[0], box = img.getBoundingClientRect();
      var room = limit - box.top - (block.getBoundingClientRect().bottom - box.bottom);
      if (room < 120) return null;
      img.style.maxHeight = Math.floor(room) + "px";
      img.style.width = "auto";
      return "again";
    }
    return null;
  }

  // --- slides ---------------------------------------------------------------------------------

  function sectionTitle(section) {
    // the nearest level-1 or level-2 heading at or before this slide
    var all = slides();
    for (var i = all.indexOf(section); i >= 0; i--) {
      var headings = all[i].querySelectorAll(".jp-RenderedMarkdown h1, .jp-RenderedMarkdown h2");
      if (headings.length) return headings[headings.length - 1];
    }
    return null;
  }

  function addHeader(section, heading) {
    var header = document.createElement("div");
    header.className = "course-continued";
    header.setAttribute("aria-hidden", "true");
    var copy = heading.cloneNode(true);
    Array.prototype.slice.call(copy.querySelectorAll(".anchor-link")).forEach(function (a) {
      a.parentNode.removeChild(a);
    });
    while (copy.firstChild) header.appendChild(copy.firstChild);
    section.insertBefore(header, section.firstChild);
  }

  function needsHeader(section) {
    var first = blocksOf(section)[0];
    return !(first && /^H[12]$/.test(first.tagName));
  }

  function newSlideAfter(section) {
    var next = document.createElement("section");
    section.parentNode.insertBefore(next, section.nextSibling);
    var heading = sectionTitle(section);
    if (heading) addHeader(next, heading);
    return next;
  }

  function moveBlocks(blocks, from, to) {
    var clones = new Map();
    function cloneOf(element) {
      if (element === from) return to;
      if (clones.has(element)) return clones.get(element);
      var copy = element.cloneNode(false);
      if (copy.id) copy.setAttribute("data-continues", copy.id); // the rest of that element
      copy.removeAttribute("id");
      cloneOf(element.parentElement).appendChild(copy);
      clones.set(element, copy);
      return copy;
    }
    var left = new Set();
    blocks.forEach(function (block) {
      for (var a = block.parentElement; a && a !== from; a = a.parentElement) left.add(a);
      cloneOf(block.parentElement).appendChild(block);
    });
    // wrappers whose content all moved would still take their padding: they go, and their
    // copy takes their id (a link to the cell, a test counting cells, still finds it)
    left.forEach(function (wrapper) {
      if (wrapper.isConnected && !blocksOf(wrapper).length && !wrapper.querySelector("aside.notes")) {
        wrapper.parentNode.removeChild(wrapper);
        if (wrapper.id && clones.has(wrapper)) clones.get(wrapper).id = wrapper.id;
      }
    });
    var first = blocksOf(to)[0];
    if (first && first.classList.contains("fragment")) first.classList.remove("fragment");
  }

  // Split ``section`` once where it overflows; return the new slide after it, or null.
  function splitOnce(section) {
    var top = section.getBoundingClientRect().top;
    var limit = top + HEIGHT - EPSILON;
    for (var pass = 0; pass < 50; pass++) {
      var blocks = blocksOf(section);
      var i = blocks.findIndex(function (b) { return b.getBoundingClientRect().bottom > limit; });
      if (i < 0) return null;
      if (i === 0) {
        var result = splitInside(blocks[0], limit);
        if (result === null) {
          if (blocks.length === 1) return null;
          i = 1; // it stays alone on its slide, too tall; what follows moves on
        } else if (result === "again") {
          continue;
        } else {
          i = 1;
          blocks = blocksOf(section);
        }
      }
      var big = blocks[i].getBoundingClientRect().height > 0.4 * HEIGHT;
      if (i > 0 && big && splittable(blocks[i])) {
        var second = splitInside(blocks[i], limit);
        if (second && second !== "again") {
          var next0 = newSlideAfter(section);
          moveBlocks(blocksOf(section).slice(i + 1), section, next0);
          return next0;
        }
      }
      var start = i;
      // a paragraph that goes on with a sentence (it starts in lower case) stays with the block
      // before it: no slide opens mid-sentence
      while (start > 1 && continuesSentence(blocks[start])) start--;
      while (start > 1 && keepWithNext(blocks[start - 1], blocks[start])) start--;
      if (start === 1 && keepWithNext(blocks[0], blocks[1])) start = i; // it all belongs together
      var next = newSlideAfter(section);
      moveBlocks(blocks.slice(start), section, next);
      return next;
    }
    return null;
  }

  function narrowWideTables() {
    // a table of prose wider than the slide is set smaller, to 14px at least, until it fits
    document.querySelectorAll(".reveal .slides table").forEach(function (table) {
      var size = parseFloat(getComputedStyle(table).fontSize);
      var room = table.parentElement.clientWidth;
      while (table.scrollWidth > room + EPSILON && size > 14) {
        size -= 1;
        table.style.fontSize = size + "px";
        table.querySelectorAll("code").forEach(function (c) { c.style.fontSize = size + "px"; });
      }
    });
  }

  function wrapWideText() {
    // printed output wider than the slide wraps rather than running off its edge (the
    // smallest readable size leaves about 80 characters a line)
    document.querySelectorAll(".reveal .slides pre").forEach(function (pre) {
      if (pre.scrollWidth > pre.clientWidth + EPSILON) pre.classList.add("course-wrapped");
    });
  }

  function layOut() {
    flatten();
    slides().forEach(function (section) {
      if (!blocksOf(section).length && !section.querySelector("aside.notes")) {
        section.parentNode.removeChild(section);
      }
    });
    wrapWideText();
    narrowWideTables();
    slides().forEach(function (section) {
      if (needsHeader(section)) {
        var heading = sectionTitle(section);
        if (heading) addHeader(section, heading);
      }
    });
    slides().forEach(function (section) {
      var guard = 0;
      while (section && guard++ < 100) section = splitOnce(section);
    });

  }

  // --- waiting for what changes the layout: fonts, pictures, MathJax ------------------------

  function whenTypeset(done) {
    var waited = 0;
    (function poll() {
      if (window.MathJax && window.MathJax.Hub && window.MathJax.isReady) {
        window.MathJax.Hub.Queue(done);
      } else if ((waited += 50) > 20000) {
        done(); // no MathJax: lay out without it
      } else {
        setTimeout(poll, 50);
      }
    })();
  }

  function whenPicturesLoaded() {
    var images = Array.prototype.slice.call(document.querySelectorAll(".reveal img"));
    return Promise.all(images.map(function (img) {
      return img.decode ? img.decode().catch(function () {}) : Promise.resolve();
    }));
  }

  function start(options) {
    var reveal = document.querySelector(".reveal");
    reveal.classList.add("course-measuring");
    var fonts = document.fonts ? document.fonts.ready : Promise.resolve();
    Promise.all([fonts, whenPicturesLoaded()]).then(function () {
      whenTypeset(function () {
        layOut();
        reveal.classList.remove("course-measuring");
        require(
          { waitSeconds: 15 },
          [options.reveal, options.notes],
          function (Reveal, RevealNotes) {
            Reveal.initialize({
              controls: true,
              progress: true,
              history: true,
              center: false,
              navigationMode: "linear",
              transition: options.transition,
              slideNumber: options.slideNumber,
              plugins: [RevealNotes],
              width: WIDTH,
              height: HEIGHT,
              pdfMaxPagesPerSlide: 1,
              pdfSeparateFragments: false,
            });
            window.courseReveal = Reveal;
            Reveal.on("pdf-ready", function () {
              document.documentElement.setAttribute("data-course-pdf-ready", "");
            });
          }
        );
      });
    });
  }

  window.courseDeck = { start: start, WIDTH: WIDTH, HEIGHT: HEIGHT };
})();
