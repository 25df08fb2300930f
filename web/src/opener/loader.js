// loader.js - the inline script of a compact build (node web/build.mjs
// --compact): the opener bundle travels deflate-compressed and base64-coded
// in __PAYLOAD__; this inflates it with DecompressionStream and runs it as a
// blob: script. The CSP allows that script through 'strict-dynamic' (trust
// passes to scripts this hashed script creates); nothing else may run.
(() => {
  const fail = () => document.documentElement.classList.add('sp-noload');
  try {
    const bin = atob('__PAYLOAD__');
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
    new Response(stream)
      .blob()
      .then((js) => {
        const s = document.createElement('script');
        s.src = URL.createObjectURL(new Blob([js], { type: 'text/javascript' }));
        s.onerror = fail;
        document.body.append(s);
      })
      .catch(fail);
  } catch {
    // No DecompressionStream (a browser from before 2023): say what to do.
    fail();
  }
})();
