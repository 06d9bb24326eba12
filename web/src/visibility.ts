// Widgets train only while someone can see them: off-screen (scrolled away, inside the host page or,
// for an iframe, the host page's own scrolling: IntersectionObserver's implicit root is the top-level
// viewport) or in a hidden tab (Page Visibility), a widget pauses, and resumes when it is seen again.
// Used by the custom element (element.ts) and the iframe page (embed.ts).

export interface Pausable { setOffscreen(off: boolean): void }

/** Watches `el`; returns a function that stops watching. */
export function pauseWhenUnseen(el: Element, app: () => Pausable | null): () => void {
  let inView = true;
  const update = () => app()?.setOffscreen(!inView || document.visibilityState === 'hidden');
  const io = new IntersectionObserver((es) => {
    inView = es[es.length - 1].isIntersecting;
    update();
  });
  io.observe(el);
  document.addEventListener('visibilitychange', update);
  return () => {
    io.disconnect();
    document.removeEventListener('visibilitychange', update);
  };
}
