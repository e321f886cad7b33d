import "./style.css";
import nook from "grok:a cosy reading nook with a cat?tier=pro&w=360&h=360&format=avif";
import nookAgain from "grok:a cosy reading nook with a cat?tier=pro&w=360&h=360&format=avif&v=2";
import lighthouse from "grok:a lighthouse on a cliff in a storm?tier=standard&ratio=16:9&w=640&format=jpeg";
import hero from "grok:a misty pine forest at dawn, a wide landscape?w=960";
import { alt as foxAlt, images as foxes } from "grok:a watercolor fox, a tall portrait?n=3&w=240&h=320";

interface Picture {
  src: string;
  width: number;
  height: number;
}

function figure(image: Picture, alt: string, caption: string): HTMLElement {
  const element = document.createElement("figure");
  const img = document.createElement("img");
  img.src = image.src;
  img.width = image.width;
  img.height = image.height;
  img.alt = alt;
  const text = document.createElement("figcaption");
  text.textContent = caption;
  element.append(img, text);
  return element;
}

const app = document.querySelector<HTMLElement>("#app");
if (!app) throw new Error("#app is missing from index.html");

app.append(figure(hero, hero.prompt, `${hero.width}×${hero.height} ${hero.format} · ${hero.model}`));

const row = document.createElement("section");
row.className = "row";
row.append(
  figure(lighthouse, lighthouse.prompt, "standard tier, 16:9, jpeg"),
  figure(nook, nook.prompt, "pro tier, avif, square crop"),
  figure(nookAgain, nookAgain.prompt, "the same prompt, variant v=2"),
);
app.append(row);

const gallery = document.createElement("section");
gallery.className = "row";
for (const fox of foxes) gallery.append(figure(fox, foxAlt, `fox ${fox.index + 1} of ${foxes.length}`));
app.append(gallery);

// A dynamic import: its image loads with the chunk that needs it.
void import("grok:a paper boat on a puddle?w=320&format=png").then(({ default: boat }) => {
  app.append(figure(boat, boat.prompt, "loaded by a dynamic import"));
});
