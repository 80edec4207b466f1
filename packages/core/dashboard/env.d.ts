/** CSS files the bundle imports (esbuild writes them into app.css). */
declare module '*.css';
