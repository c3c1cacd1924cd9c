// Progressive enhancement of the home page: the form works as a plain POST without this script.
// With it: drag and drop, a preview, the translation through the JSON API with a spinner and a
// running clock, and the result on the same page.
'use strict';

(function () {
  const form = document.getElementById('translate-form');
  if (!form || !window.fetch || !window.FormData) return;

  const $ = (id) => document.getElementById(id);
  const input = $('image');
  const dropzone = $('dropzone');
  const preview = $('preview');
  const previewNote = $('preview-note');
  const submit = $('submit');
  const progress = $('progress');
  const elapsed = $('elapsed');
  const errorBox = $('error');
  const result = $('result');
  const maxBytes = Number(form.dataset.maxBytes);
  const urls = { preview: null, original: null, translated: null };

  function replaceUrl(key, blob) {
    if (urls[key]) URL.revokeObjectURL(urls[key]);
    urls[key] = blob ? URL.createObjectURL(blob) : null;
    return urls[key];
  }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
  }

  function clearError() {
    errorBox.hidden = true;
    errorBox.textContent = '';
  }

  function showPreview() {
    clearError();
    const file = input.files && input.files[0];
    if (!file) {
      preview.hidden = true;
      previewNote.hidden = true;
      return;
    }
    const kb = file.size / 1024;
    previewNote.textContent = file.name + ' (' + (kb < 1024 ? Math.ceil(kb) + ' KB' : (kb / 1024).toFixed(1) + ' MB') + ')';
    previewNote.hidden = false;
    preview.onerror = function () {
      // TIFF and some HEIF files cannot be shown by browsers; the server still reads them.
      preview.hidden = true;
    };
    preview.src = replaceUrl('preview', file);
    preview.hidden = false;
  }

  input.addEventListener('change', showPreview);

  ['dragenter', 'dragover'].forEach(function (type) {
    dropzone.addEventListener(type, function (e) {
      e.preventDefault();
      dropzone.classList.add('dragging');
    });
  });
  ['dragleave', 'drop'].forEach(function (type) {
    dropzone.addEventListener(type, function () {
      dropzone.classList.remove('dragging');
    });
  });
  dropzone.addEventListener('drop', function (e) {
    e.preventDefault();
    if (e.dataTransfer && e.dataTransfer.files.length > 0) {
      input.files = e.dataTransfer.files;
      showPreview();
    }
  });

  function fileNameFrom(disposition) {
    const m = /filename="([^"]+)"/.exec(disposition || '');
    return m ? m[1] : 'translated';
  }

  function seconds(ms) {
    return ms < 1000 ? Math.round(ms) + ' ms' : (ms / 1000).toFixed(2) + ' s';
  }

  async function errorMessage(response) {
    try {
      const body = await response.json();
      if (body && body.error && body.error.message) return body.error.message;
    } catch (_) {
      // not JSON: a proxy in between answered
    }
    return 'The server answered ' + response.status + ' ' + response.statusText + '.';
  }

  form.addEventListener('submit', async function (e) {
    e.preventDefault();
    clearError();
    const file = input.files && input.files[0];
    if (!file) {
      showError('Choose a photo first.');
      return;
    }
    if (maxBytes && file.size > maxBytes) {
      showError('That file is too large: the limit is ' + form.dataset.maxMb + ' MB.');
      return;
    }
    const started = performance.now();
    const timer = setInterval(function () {
      elapsed.textContent = ((performance.now() - started) / 1000).toFixed(1) + ' s';
    }, 100);
    elapsed.textContent = '0.0 s';
    progress.hidden = false;
    submit.disabled = true;
    try {
      const response = await fetch('/api/translate', { method: 'POST', body: new FormData(form) });
      if (!response.ok) {
        showError(await errorMessage(response));
        return;
      }
      const blob = await response.blob();
      const took = performance.now() - started;
      const name = fileNameFrom(response.headers.get('Content-Disposition'));
      const model = response.headers.get('X-Model') || '';
      const inference = Number(response.headers.get('X-Inference-Ms'));
      const size = response.headers.get('X-Image-Size') || '';
      $('result-original').src = replaceUrl('original', file);
      $('result-translated').src = replaceUrl('translated', blob);
      const picked = form.querySelector('input[name=model]:checked');
      const label = picked ? picked.closest('label').querySelector('.direction') : null;
      $('result-title').textContent = 'Translated with ' + model + (label ? ' (' + label.textContent + ')' : '');
      $('result-caption').textContent = 'Translated' + (size ? ', ' + size.replace('x', '×') + ' px' : '');
      const download = $('download');
      download.href = urls.translated;
      download.download = name;
      download.textContent = 'Download ' + name;
      $('timing').textContent =
        'took ' + seconds(took) + (Number.isFinite(inference) ? ' (inference ' + seconds(inference) + ')' : '');
      result.hidden = false;
      result.scrollIntoView({ behavior: 'smooth', block: 'start' });
    } catch (err) {
      showError('Could not reach the server: ' + (err && err.message ? err.message : String(err)));
    } finally {
      clearInterval(timer);
      progress.hidden = true;
      submit.disabled = false;
    }
  });
})();
