import { createApp } from 'vue';
import App from './App.vue';
import { createHubRouter } from './router';
import './styles.css';

createApp(App).use(createHubRouter()).mount('#app');
